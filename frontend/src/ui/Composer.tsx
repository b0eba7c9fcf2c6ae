import { useEffect, useId, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react'
import { useServices } from './context'
import { MAX_BODY_LENGTH, bodyLength, trimBody, type Message, type User } from '../lib'
import { insertMention, mentionCandidates, mentionQuery } from './mentions'
import { AttachmentTray } from './AttachmentTray'
import { useStore } from './store'
import { chooseFiles } from './fileChoice'

/** Unsent text per person and room, so switching rooms keeps what was being written
 * and the next person to log in on this tab never sees it. */
const drafts = new Map<string, string>()

/** The textarea grows with its text up to this height, then scrolls. */
const MAX_COMPOSER_HEIGHT_PX = 200

interface Props {
  room: string
  me: User
  /** What the empty field says (a dm names who it is with); `Message #room` by default. */
  placeholder?: string
  /** The message being replied to, shown above the field as `Replying to USERNAME`. */
  replyTo: Message | null
  onCancelReply(): void
  /** Who `@` may suggest: the room's members, the people here, recent authors. */
  mentionSources: { members: readonly User[] | null; present: readonly User[]; messages: readonly Message[] }
}

export function Composer({ room, me, placeholder, replyTo, onCancelReply, mentionSources }: Props) {
  const { client } = useServices()
  const draftKey = `${me.id}/${room}`
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '')
  const [problem, setProblem] = useState<string | null>(null)
  const composing = useRef(false)
  const field = useRef<HTMLTextAreaElement>(null)
  const fieldId = useId()
  const [caret, setCaret] = useState(0)
  const [active, setActive] = useState(0)
  const [dismissed, setDismissed] = useState<string | null>(null)
  const query = mentionQuery(text, caret)
  const suggestions = query && dismissed !== text ? mentionCandidates(query.query, me, mentionSources) : []
  const open = suggestions.length > 0
  const chosen = Math.min(active, suggestions.length - 1)
  const uploads = client.uploads(room)
  const files = useStore(uploads)
  const uploading = files.some((f) => f.status === 'queued' || f.status === 'uploading')
  const uploaded = files.some((f) => f.status === 'done')

  // Replying: the field is where the answer goes.
  useEffect(() => {
    if (replyTo) field.current?.focus()
  }, [replyTo])

  // Leaving the room (or the page) stops our typing indicator there.
  useEffect(() => () => client.composerIdle(room), [client, room])

  useEffect(() => {
    const element = field.current
    if (!element) return
    element.style.height = 'auto'
    element.style.height = `${Math.min(element.scrollHeight, MAX_COMPOSER_HEIGHT_PX)}px`
  }, [text])

  function change(value: string, at: number) {
    setText(value)
    setCaret(at)
    setActive(0)
    setProblem(null)
    if (value) drafts.set(draftKey, value)
    else drafts.delete(draftKey)
    client.composerInput(room, value)
  }

  function send() {
    const body = trimBody(text)
    // A message waits for its files: Send is off (the hint says why) until every
    // upload has finished or been removed.
    if (uploading || (!body && !uploaded)) return
    const length = bodyLength(body)
    if (length > MAX_BODY_LENGTH) {
      setProblem(`Messages are at most ${MAX_BODY_LENGTH} characters; this one has ${length}.`)
      return
    }
    client.send(room, body, replyTo ?? undefined, uploads.take())
    if (replyTo) onCancelReply()
    drafts.delete(draftKey)
    setText('')
    client.composerIdle(room)
    field.current?.focus()
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    send()
  }

  function attach(chosenFiles: readonly File[]) {
    setProblem(chooseFiles(uploads, chosenFiles))
  }

  function paste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = Array.from(event.clipboardData.files)
    if (pasted.length === 0) return
    // Files (a copied screenshot): attached, not pasted as their name.
    event.preventDefault()
    attach(pasted)
  }

  function pick(username: string) {
    if (!query) return
    const next = insertMention(text, caret, query.start, username)
    change(next.text, next.caret)
    window.requestAnimationFrame(() => field.current?.setSelectionRange(next.caret, next.caret))
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (open && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
      event.preventDefault()
      const step = event.key === 'ArrowDown' ? 1 : -1
      setActive((chosen + step + suggestions.length) % suggestions.length)
      return
    }
    if (open && (event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
      event.preventDefault()
      pick(suggestions[chosen]!)
      return
    }
    if (event.key === 'Escape') {
      if (open) setDismissed(text)
      else if (replyTo) onCancelReply()
      return
    }
    if (event.key !== 'Enter' || event.shiftKey) return
    // While an IME composes, Enter picks a candidate; it must not send.
    if (composing.current || event.nativeEvent.isComposing || event.keyCode === 229) return
    event.preventDefault()
    send()
  }

  const length = bodyLength(trimBody(text))
  const over = length - MAX_BODY_LENGTH
  const nearLimit = length > MAX_BODY_LENGTH - 500

  return (
    <form className="composer" onSubmit={submit}>
      {replyTo && (
        <div className="replying">
          <span>
            Replying to <strong>{replyTo.author.username}</strong>
          </span>
          <span className="muted replying-excerpt">{replyTo.body}</span>
          <button type="button" className="small-button" onClick={onCancelReply}>
            Cancel reply
          </button>
        </div>
      )}
      {open && (
        <ul className="mention-suggestions" role="listbox" id={`${fieldId}-mentions`} aria-label="Mention suggestions">
          {suggestions.map((name, i) => (
            <li
              key={name}
              id={`${fieldId}-mention-${i}`}
              role="option"
              aria-selected={i === chosen}
              onMouseDown={(event) => {
                // Keep the focus (and the caret) in the field.
                event.preventDefault()
                pick(name)
              }}
            >
              @{name}
            </li>
          ))}
        </ul>
      )}
      <AttachmentTray items={files} onRemove={(key) => uploads.remove(key)} onRetry={(key) => uploads.retry(key)} />
      <input
        id={`${fieldId}-attach`}
        type="file"
        multiple
        className="visually-hidden attach-input"
        onChange={(event) => {
          attach(Array.from(event.target.files ?? []))
          // The same file may be chosen again after it was removed.
          event.target.value = ''
        }}
      />
      <label htmlFor={`${fieldId}-attach`} className="attach-button" title="Attach file">
        <span aria-hidden="true">+</span>
        <span className="visually-hidden">Attach file</span>
      </label>
      <label htmlFor={fieldId} className="visually-hidden">
        Message
      </label>
      <textarea
        id={fieldId}
        ref={field}
        rows={1}
        value={text}
        placeholder={placeholder ?? `Message #${room}`}
        aria-invalid={problem || over > 0 ? true : undefined}
        aria-describedby={`${fieldId}-hint`}
        // Stays a textbox (tests and screen readers find `Message` by that role); the listbox is tied to it.
        aria-autocomplete="list"
        aria-controls={open ? `${fieldId}-mentions` : undefined}
        aria-activedescendant={open ? `${fieldId}-mention-${chosen}` : undefined}
        onChange={(event) => change(event.target.value, event.target.selectionStart)}
        onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
        onKeyDown={keyDown}
        onPaste={paste}
        onCompositionStart={() => {
          composing.current = true
        }}
        onCompositionEnd={() => {
          composing.current = false
        }}
        onBlur={() => client.composerIdle(room)}
      />
      <button type="submit" className="primary" disabled={uploading || (trimBody(text) === '' && !uploaded)}>
        Send
      </button>
      <p id={`${fieldId}-hint`} className={problem || over > 0 ? 'composer-hint field-error' : 'composer-hint'}>
        {problem ??
          (over > 0
            ? `${over} characters over the limit`
            : nearLimit
              ? `${MAX_BODY_LENGTH - length} characters left`
              : uploading
                ? 'Uploading… Send waits for the files'
                : 'Enter to send · Shift+Enter for a new line')}
      </p>
    </form>
  )
}
