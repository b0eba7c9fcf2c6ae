// Files chosen in the picker, dropped on the room or pasted: all go to the room's upload queue.
import type { UploadQueue } from '../lib/uploads'

/** Queues the files; answers why some were left out, else null. */
export function chooseFiles(uploads: UploadQueue, files: readonly File[]): string | null {
  return uploads.add(files.map((file) => ({ name: file.name || 'pasted-file', size: file.size, file })))
}
