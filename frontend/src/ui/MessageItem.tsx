import { memo } from 'react'
import type { LogEntry } from './view'
import { formatClock, formatFullDate } from './view'
import { Avatar } from './Avatar'

interface Props {
  entry: LogEntry
  own: boolean
  onRetry(clientId: string): void
}

/** One message: author, time and body as plain text (React escapes it; never HTML). */
export const MessageItem = memo(function MessageItem({ entry, own, onRetry }: Props) {
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
    <li className={classes.join(' ')} data-seq={entry.kind === 'stored' ? entry.message.seq : undefined}>
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
    </li>
  )
})
