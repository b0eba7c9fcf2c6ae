import { useId, useState, type FormEvent } from 'react'
import { MAX_TOPIC_LENGTH } from '../lib'
import { useServices } from './context'
import { Dialog } from './Dialog'
import { DialogFormActions, FormProblem, useDialogRequest } from './dialogForm'
import { normalizeRoomName, roomNameProblem } from './view'

/** `New room`: a public or private room with a topic; opened once the server has made it. */
export function NewRoomDialog({ onClose, onCreated }: { onClose(): void; onCreated(room: string): void }) {
  const { client } = useServices()
  const id = useId()
  const [name, setName] = useState('')
  const [topic, setTopic] = useState('')
  const [isPrivate, setPrivate] = useState(false)
  const { problem, busy, submit: request } = useDialogRequest()

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const room = normalizeRoomName(name)
    const why = roomNameProblem(room) ?? (room.startsWith('dm-') ? 'Names starting with "dm-" are kept for direct messages.' : null)
    void request(why, async () => {
      await client.create(room, isPrivate ? 'private' : 'public', topic.trim())
      onCreated(room)
    })
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
        <FormProblem problem={problem} />
        <DialogFormActions label="Create" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  )
}
