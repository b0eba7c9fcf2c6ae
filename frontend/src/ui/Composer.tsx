import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { useServices } from './context'
import { MAX_BODY_LENGTH, bodyLength, trimBody } from '../lib'

/** Unsent text per person and room, so switching rooms keeps what was being written
 * and the next person to log in on this tab never sees it. */
const drafts = new Map<string, string>()

/** The textarea grows with its text up to this height, then scrolls. */
const MAX_COMPOSER_HEIGHT_PX = 200

/** `placeholder`: what the empty field says (a dm names who it is with); `Message #room` by default. */
export function Composer({ room, userId, placeholder }: { room: string; userId: number; placeholder?: string }) {
  const { client } = useServices()
  const draftKey = `${userId}/${room}`
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '')
  const [problem, setProblem] = useState<string | null>(null)
  const composing = useRef(false)
  const field = useRef<HTMLTextAreaElement>(null)
  const fieldId = useId()

  // Leaving the room (or the page) stops our typing indicator there.
  useEffect(() => () => client.composerIdle(room), [client, room])

  useEffect(() => {
    const element = field.current
    if (!element) return
    element.style.height = 'auto'
    element.style.height = `${Math.min(element.scrollHeight, MAX_COMPOSER_HEIGHT_PX)}px`
  }, [text])

  function change(value: string) {
    setText(value)
    setProblem(null)
    if (value) drafts.set(draftKey, value)
    else drafts.delete(draftKey)
    client.composerInput(room, value)
  }

  function send() {
    const body = trimBody(text)
    if (!body) return
    const length = bodyLength(body)
    if (length > MAX_BODY_LENGTH) {
      setProblem(`Messages are at most ${MAX_BODY_LENGTH} characters; this one has ${length}.`)
      return
    }
    client.send(room, body)
    drafts.delete(draftKey)
    setText('')
    client.composerIdle(room)
    field.current?.focus()
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    send()
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
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
        onChange={(event) => change(event.target.value)}
        onKeyDown={keyDown}
        onCompositionStart={() => {
          composing.current = true
        }}
        onCompositionEnd={() => {
          composing.current = false
        }}
        onBlur={() => client.composerIdle(room)}
      />
      <button type="submit" className="primary" disabled={trimBody(text) === ''}>
        Send
      </button>
      <p id={`${fieldId}-hint`} className={problem || over > 0 ? 'composer-hint field-error' : 'composer-hint'}>
        {problem ??
          (over > 0
            ? `${over} characters over the limit`
            : nearLimit
              ? `${MAX_BODY_LENGTH - length} characters left`
              : 'Enter to send · Shift+Enter for a new line')}
      </p>
    </form>
  )
}
