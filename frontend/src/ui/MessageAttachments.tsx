import { useId } from 'react'
import type { Attachment } from '../lib'
import { useServices } from './context'
import { humanSize, thumbnailBox } from './attachments'

/**
 * A message's files: an image as its thumbnail (alt = its name) in a link to
 * the full image, any other file as a link named by its name, its size shown
 * in it. The thumbnail's box is set from the image's size, so the row does
 * not change height when it loads.
 */
export function MessageAttachments({ attachments }: { attachments: readonly Attachment[] }) {
  if (attachments.length === 0) return null
  return (
    <ul className="attachments" aria-label="Attachments">
      {attachments.map((attachment) => (
        <li key={attachment.id}>
          {attachment.image ? <ImageLink attachment={attachment} /> : <FileLink attachment={attachment} />}
        </li>
      ))}
    </ul>
  )
}

function ImageLink({ attachment }: { attachment: Attachment }) {
  const { client } = useServices()
  const image = attachment.image!
  const box = thumbnailBox(image.width, image.height)
  return (
    <a className="attachment-image" href={client.fileUrl(attachment.url)} target="_blank" rel="noopener noreferrer">
      <img src={client.fileUrl(image.thumbnail_url)} alt={attachment.name} width={box.width} height={box.height} />
    </a>
  )
}

function FileLink({ attachment }: { attachment: Attachment }) {
  const { client } = useServices()
  const sizeId = useId()
  // The size shows inside the link but is left out of its name (the name is the
  // file's, exactly) and read as its description instead.
  return (
    <a className="attachment-file" href={client.fileUrl(attachment.url)} download={attachment.name} aria-describedby={sizeId}>
      {attachment.name}{' '}
      <span id={sizeId} className="attachment-size" aria-hidden="true">
        {humanSize(attachment.size)}
      </span>
    </a>
  )
}
