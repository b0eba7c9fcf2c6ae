import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import { MAX_BODY_LENGTH, bodyLength, trimBody, type Message, type PendingChange, type User } from '../lib'
import { withPendingChanges } from '../lib/changes'
import type { LogEntry } from './view'
import { formatClock, formatFullDate } from './view'
import { Avatar } from './Avatar'
import { renderBody, useMarkdownReady } from './markdown'
import { MessageAttachments } from './MessageAttachments'

/** What a person can do to a stored message; one stable object per log. */
export interface MessageActions {
  reply(message: Message): void
  /** Opens the `Add reaction` picker for the message. */
  pickReaction(seq: number): void
  react(seq: number, emoji: string, active: boolean): void
  edit(seq: number, body: string): void
  /** Asks for confirmation, then deletes. */
  confirmDelete(seq: number): void
  /** Scrolls to (loading if need be) the message a reply quotes. */
  showOriginal(seq: number): void
  retryChange(id: string): void
  discardChange(id: string): void
  retry(clientId: string): void
}

interface Props {
  entry: LogEntry
  me: User
  /** Whether I may delete others' messages too (the room's owner, staff). */
  canModerate: boolean
  /** Edits, deletes and reactions of this message still on their way. */
  changes: readonly PendingChange[]
  actions: MessageActions
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
  /** Shown for a moment after a reply's quote was followed to it. */
  highlighted: boolean
  /** The message the room was opened at: focusable (from script), so focus can be put on it. */
  focusable?: boolean
}

/**
 * One message: author, time, body (the Markdown subset as elements, never
 * HTML), its reply quote, reactions and actions. A day separator and the New
 * messages line sit inside the row above the message, so the list holds list
 * items only.
 */
export const MessageItem = memo(function MessageItem(props: Props) {
  const { entry, me, canModerate, changes, actions, index, setSize, offset, measure, dayText, unreadLine, highlighted, focusable } = props
  const { continues } = entry
  const pending = entry.kind === 'pending' ? entry.message : null
  const stored = entry.kind === 'stored' ? entry.message : null
  const message = useMemo(
    () => (stored && changes.length > 0 ? withPendingChanges(stored, changes, me) : stored),
    [stored, changes, me],
  )
  const own = entry.message.author.id === me.id
  const [editing, setEditing] = useState(false)
  // Saved or cancelled: the keyboard is back where editing began.
  const editButton = useRef<HTMLButtonElement>(null)
  const wasEditing = useRef(false)
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus()
    wasEditing.current = editing
  }, [editing])
  const deleted = message?.deleted ?? false
  const body = message?.body ?? entry.message.body
  const markdownReady = useMarkdownReady()
  // eslint-disable-next-line react-hooks/exhaustive-deps -- rendered again once the parser has loaded
  const rendered = useMemo(() => renderBody(body), [body, markdownReady])
  const replyTo = message ? message.reply_to : (pending?.reply_to ?? null)
  const mentionsMe = message?.mentions.includes(me.id) ?? false
  const attachments = deleted ? [] : ((message ? message.attachments : pending?.attachments) ?? [])

  const classes = ['message']
  if (own) classes.push('own')
  if (continues) classes.push('continues')
  if (pending) classes.push(pending.status === 'failed' ? 'failed' : 'sending')
  if (mentionsMe) classes.push('mentions-me')
  if (highlighted) classes.push('highlighted')
  if (deleted) classes.push('deleted')

  const time = (
    <time className="message-time" dateTime={entry.message.created_at} title={formatFullDate(entry.message.created_at)}>
      {formatClock(entry.message.created_at)}
    </time>
  )
  const failedChange = changes.find((c) => c.status === 'failed')
  const saving = changes.some((c) => c.status === 'sending')

  return (
    <li
      ref={measure}
      className="log-row"
      data-index={index}
      data-key={entry.key}
      data-seq={stored?.seq}
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
      <div className={classes.join(' ')} tabIndex={focusable ? -1 : undefined}>
        <div className="message-gutter">{continues ? time : <Avatar user={entry.message.author} />}</div>
        <div className="message-main">
          {continues ? (
            <span className="visually-hidden message-author">{entry.message.author.username}</span>
          ) : (
            <div className="message-head">
              <span className="message-author">{entry.message.author.username}</span>
              {time}
            </div>
          )}
          {mentionsMe && <span className="visually-hidden">Mentions you</span>}
          {replyTo && !deleted && (
            <button type="button" className="reply-quote" onClick={() => actions.showOriginal(replyTo.seq)}>
              <span className="reply-author">{replyTo.author.username}</span>{' '}
              <span className="reply-excerpt">{replyTo.excerpt}</span>
            </button>
          )}
          {deleted ? (
            <div className="message-body message-deleted">This message was deleted</div>
          ) : editing && message ? (
            <EditForm
              body={message.body}
              onSave={(text) => {
                setEditing(false)
                if (text !== message.body) actions.edit(message.seq, text)
              }}
              onCancel={() => setEditing(false)}
            />
          ) : (
            // A message of files alone has no body line.
            (body !== '' || attachments.length === 0 || message?.edited_at) && (
              <div className="message-body">
                <span className="message-text">{rendered}</span>
                {message?.edited_at && <span className="edited muted"> (edited)</span>}
              </div>
            )
          )}
          {!editing && <MessageAttachments attachments={attachments} />}
          {message && !deleted && message.reactions.length > 0 && (
            <div className="reactions" role="group" aria-label="Reactions">
              {message.reactions.map((reaction) => {
                const mine = reaction.users.some((u) => u.id === me.id)
                return (
                  <button
                    key={reaction.emoji}
                    type="button"
                    className="reaction"
                    aria-pressed={mine}
                    title={reaction.users.map((u) => u.username).join(', ')}
                    onClick={() => actions.react(message.seq, reaction.emoji, !mine)}
                  >
                    {reaction.emoji} {reaction.users.length}
                  </button>
                )
              })}
            </div>
          )}
          {message && !deleted && !editing && (
            <div className="message-actions">
              <button type="button" className="small-button" onClick={() => actions.reply(message)}>
                Reply
              </button>
              <button type="button" className="small-button" onClick={() => actions.pickReaction(message.seq)}>
                React
              </button>
              {own && (
                <button ref={editButton} type="button" className="small-button" onClick={() => setEditing(true)}>
                  Edit
                </button>
              )}
              {(own || canModerate) && (
                <button type="button" className="small-button danger" onClick={() => actions.confirmDelete(message.seq)}>
                  Delete
                </button>
              )}
            </div>
          )}
          {failedChange ? (
            <div className="message-state">
              <span className="failed-label">Change not saved</span>
              {failedChange.error && <span className="muted"> — {failedChange.error}</span>}{' '}
              <button type="button" className="small-button" onClick={() => actions.retryChange(failedChange.id)}>
                Retry
              </button>{' '}
              <button type="button" className="small-button" onClick={() => actions.discardChange(failedChange.id)}>
                Discard
              </button>
            </div>
          ) : (
            saving && (
              <div className="message-state">
                <span className="sending">Saving…</span>
              </div>
            )
          )}
          {pending && (
            <div className="message-state">
              {pending.status === 'sending' ? (
                <span className="sending">Sending…</span>
              ) : (
                <>
                  <span className="failed-label">Failed</span>
                  {pending.error && <span className="muted"> — {pending.error}</span>}{' '}
                  <button type="button" className="small-button" onClick={() => actions.retry(pending.client_id)}>
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

/** The body as a text field `Edit message`: Enter saves, Shift+Enter breaks the line, Escape cancels. */
function EditForm({ body, onSave, onCancel }: { body: string; onSave(text: string): void; onCancel(): void }) {
  const [text, setText] = useState(body)
  const trimmed = trimBody(text)
  const valid = trimmed !== '' && bodyLength(trimmed) <= MAX_BODY_LENGTH

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      onCancel()
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      if (valid) onSave(trimmed)
    }
  }

  return (
    <form
      className="edit-form"
      onSubmit={(event) => {
        event.preventDefault()
        if (valid) onSave(trimmed)
      }}
    >
      <textarea
        aria-label="Edit message"
        value={text}
        rows={Math.min(8, text.split('\n').length)}
        autoFocus
        onFocus={(event) => event.currentTarget.setSelectionRange(event.currentTarget.value.length, event.currentTarget.value.length)}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={keyDown}
      />
      <div className="edit-buttons">
        <button type="submit" className="small-button primary" disabled={!valid}>
          Save
        </button>
        <button type="button" className="small-button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
