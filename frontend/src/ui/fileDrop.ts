// Files dragged onto the room: a drop zone shows while they hover, and the
// drop hands them over. Only drags that carry files count (not text or a link
// dragged within the page).
import { useEffect, useRef, useState, type DragEvent } from 'react'

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files')

/** A file dropped anywhere else on the page must not make the browser leave the app to show it. */
function useNoDropOutside() {
  useEffect(() => {
    const refuse = (event: globalThis.DragEvent) => {
      if (event.defaultPrevented || !Array.from(event.dataTransfer?.types ?? []).includes('Files')) return
      event.preventDefault()
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'none'
    }
    window.addEventListener('dragover', refuse)
    window.addEventListener('drop', refuse)
    return () => {
      window.removeEventListener('dragover', refuse)
      window.removeEventListener('drop', refuse)
    }
  }, [])
}

export function useFileDrop(onFiles: (files: File[]) => void) {
  useNoDropOutside()
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
