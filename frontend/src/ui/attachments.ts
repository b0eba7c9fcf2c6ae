// How a message's files are laid out, as pure functions: sizes in words, and
// the box an image's thumbnail takes before it has loaded, so a row of the
// virtual log has its final height from its first render.

/** The largest box a thumbnail is shown in; the server's thumbnails are at most 400 px on their longer side. */
export const THUMBNAIL_MAX_WIDTH = 400
export const THUMBNAIL_MAX_HEIGHT = 300

const UNITS = ['KB', 'MB', 'GB', 'TB']

/** `512 bytes`, `1.2 KB`, `25 MB`: powers of 1024, as the upload limit is set (25 MiB). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit += 1
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value)
  return `${shown} ${UNITS[unit]}`
}

/** The image's size scaled down (never up) into the thumbnail box, whole pixels, at least 1. */
export function thumbnailBox(width: number, height: number): { width: number; height: number } {
  if (width <= 0 || height <= 0) return { width: THUMBNAIL_MAX_WIDTH, height: THUMBNAIL_MAX_HEIGHT }
  const scale = Math.min(1, THUMBNAIL_MAX_WIDTH / width, THUMBNAIL_MAX_HEIGHT / height)
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** Pixels the files add to a message row, for the virtual log's first guess at its height. */
export function attachmentsHeight(
  attachments: readonly { image: { width: number; height: number } | null }[] | undefined,
): number {
  let height = 0
  for (const attachment of attachments ?? []) {
    height += attachment.image ? thumbnailBox(attachment.image.width, attachment.image.height).height + 8 : 28
  }
  return height
}
