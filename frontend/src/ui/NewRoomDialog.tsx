import { useId, useState, type FormEvent } from 'react'
import { MAX_TOPIC_LENGTH } from '../lib'
import { useServices } from './context'
import { Dialog } from './Dialog'
import { requestProblem } from './problems'
import { normalizeRoomName, roomNameProblem } from './view'

/** `New room`: a public or private room with a topic; opened once the server has made it. */
export function NewRoomDialog({ onClose, onCreated }: { onClose(): void; onCreated(room: string): void }) {
  const { client } = useServices()
  const id = useId()
  const [name, setName] = useState('')
  const [topic, setTopic] = useState('')
  const [isPrivate, setPrivate] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const room = normalizeRoomName(name)
    const why = roomNameProblem(room) ?? (room.startsWith('dm-') ? 'Names starting with "dm-" are kept for direct messages.' : null)
    setProblem(why)
    if (why) return
    setBusy(true)
    try {
      await client.create(room, isPrivate ? 'private' : 'public', topic.trim())
      onCreated(room)
    } catch (error) {
      setProblem(requestProblem(error))
      setBusy(false)
    }
  }

  return (
    <Dialog title="New room" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-name`}>Room name</label>
        <input
          id={`${id}-name`}
          value={name}
          autoFocus
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          aria-describedby={`${id}-hint`}
          onChange={(event) => setName(event.target.value.toLowerCase())}
        />
        <p id={`${id}-hint`} className="muted small">a–z, 0–9, - and _</p>
        <label htmlFor={`${id}-topic`}>Topic</label>
        <input id={`${id}-topic`} value={topic} maxLength={MAX_TOPIC_LENGTH} onChange={(event) => setTopic(event.target.value)} />
        <label className="checkbox">
          <input type="checkbox" checked={isPrivate} onChange={(event) => setPrivate(event.target.checked)} />
          Private
          <span className="muted small"> — only people you invite can find it</span>
        </label>
        {problem && (
          <p role="alert" className="form-error">
            {problem}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  )
}
