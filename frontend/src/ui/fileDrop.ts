// Files dragged onto the room: a drop zone shows while they hover, and the
// drop hands them over. Only drags that carry files count (not text or a link
// dragged within the page).
import { useRef, useState, type DragEvent } from 'react'

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files')

export function useFileDrop(onFiles: (files: File[]) => void) {
  const [dragging, setDragging] = useState(false)
  // dragenter and dragleave fire for every child crossed: count them to know when the pointer left the area.
  const depth = useRef(0)
  const handlers = {
    onDragEnter(event: DragEvent) {
      if (!carriesFiles(event)) return
      event.preventDefault()
      depth.current += 1
      setDragging(true)
    },
    onDragOver(event: DragEvent) {
      if (!carriesFiles(event)) return
      // Without this the browser refuses the drop (and may open the file instead).
      event.preventDefault()
      event.dataTransfer.dropEffect = 'copy'
    },
    onDragLeave(event: DragEvent) {
      if (!carriesFiles(event)) return
      depth.current = Math.max(0, depth.current - 1)
      if (depth.current === 0) setDragging(false)
    },
    onDrop(event: DragEvent) {
      if (!carriesFiles(event)) return
      event.preventDefault()
      depth.current = 0
      setDragging(false)
      const files = Array.from(event.dataTransfer.files)
      if (files.length > 0) onFiles(files)
    },
  }
  return { dragging, handlers }
}
