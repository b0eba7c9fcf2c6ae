import { memo } from 'react'
import type { LogEntry } from './view'
import { formatClock, formatFullDate } from './view'
import { Avatar } from './Avatar'

interface Props {
  entry: LogEntry
  own: boolean
  onRetry(clientId: string): void
  /** Its place in the whole log (the list holds only the rows on screen). */
  index: number
  setSize: number
  /** Pixels from the top of the list. */
  offset: number
  /** The virtual list measures each row as it renders and whenever it resizes. */
  measure(element: HTMLLIElement | null): void
  /** `Today`, `Yesterday` or a date above the first message of a day. */
  dayText: string | null
  /** The `New messages` line above the first message unread when the room was opened. */
  unreadLine: boolean
}

/**
 * One message: author, time and body as plain text (React escapes it; never
 * HTML). A day separator and the New messages line sit inside the row above
 * the message, so the list holds list items only.
 */
export const MessageItem = memo(function MessageItem(props: Props) {
  const { entry, own, onRetry, index, setSize, offset, measure, dayText, unreadLine } = props
  const { message, continues } = entry
  const pending = entry.kind === 'pending' ? entry.message : null
  const classes = ['message']
  if (own) classes.push('own')
  if (continues) classes.push('continues')
  if (pending) classes.push(pending.status === 'failed' ? 'failed' : 'sending')

  const time = (
    <time className="message-time" dateTime={message.created_at} title={formatFullDate(message.created_at)}>
      {formatClock(message.created_at)}
    </time>
  )

  return (
    <li
      ref={measure}
      className="log-row"
      data-index={index}
      data-key={entry.key}
      data-seq={entry.kind === 'stored' ? entry.message.seq : undefined}
      aria-setsize={setSize}
      aria-posinset={index + 1}
      style={{ transform: `translateY(${offset}px)` }}
    >
      {dayText !== null && (
        <div className="day-separator">
          <span>{dayText}</span>
        </div>
      )}
      {unreadLine && (
        <div className="unread-line">
          <span>New messages</span>
        </div>
      )}
      <div className={classes.join(' ')}>
        <div className="message-gutter">{continues ? time : <Avatar user={message.author} />}</div>
        <div className="message-main">
          {continues ? (
            <span className="visually-hidden message-author">{message.author.username}</span>
          ) : (
            <div className="message-head">
              <span className="message-author">{message.author.username}</span>
              {time}
            </div>
          )}
          <div className="message-body">{message.body}</div>
          {pending && (
            <div className="message-state">
              {pending.status === 'sending' ? (
                <span className="sending">Sending…</span>
              ) : (
                <>
                  <span className="failed-label">Failed</span>
                  {pending.error && <span className="muted"> — {pending.error}</span>}{' '}
                  <button type="button" className="small-button" onClick={() => onRetry(pending.client_id)}>
                    Retry
                  </button>
                </>
              )}
            </div>
          )}
        </div>
      </div>
    </li>
  )
})
