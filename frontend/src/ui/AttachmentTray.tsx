import type { UploadItem } from '../lib/uploads'
import { humanSize } from './attachments'

interface Props {
  items: readonly UploadItem[]
  onRemove(key: string): void
  onRetry(key: string): void
}

/**
 * The files waiting to go with the next message: a progress bar named by the
 * file while it uploads, its size once it is up, why it failed if it did, and
 * `Remove FILENAME` all along (which also stops an upload on its way).
 */
export function AttachmentTray({ items, onRemove, onRetry }: Props) {
  if (items.length === 0) return null
  return (
    <ul className="attachment-tray" aria-label="Files to send">
      {items.map((item) => {
        const percent = Math.round(item.progress * 100)
        const errorId = `${item.key}-error`
        return (
          <li key={item.key} className={`tray-item tray-${item.status}`}>
            <span className="tray-name" title={item.name}>
              {item.name}
            </span>
            {item.status === 'queued' || item.status === 'uploading' ? (
              <div
                role="progressbar"
                aria-label={item.name}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={percent}
                aria-valuetext={item.status === 'queued' ? 'Waiting' : `${percent}%`}
                className="tray-progress"
              >
                <div className="tray-progress-fill" style={{ width: `${percent}%` }} />
              </div>
            ) : item.status === 'done' ? (
              <span className="muted tray-size">{humanSize(item.size)}</span>
            ) : (
              <span id={errorId} className="field-error tray-error">
                {item.error}
              </span>
            )}
            {item.status === 'failed' && item.retryable && (
              <button type="button" className="small-button" onClick={() => onRetry(item.key)} aria-describedby={errorId}>
                Retry<span className="visually-hidden"> {item.name}</span>
              </button>
            )}
            <button type="button" className="small-button" onClick={() => onRemove(item.key)}>
              Remove<span className="visually-hidden"> {item.name}</span>
            </button>
          </li>
        )
      })}
    </ul>
  )
}
