import { useId, useState, type FormEvent } from 'react'
import type { User } from '../lib'
import { Dialog } from './Dialog'
import { DialogFormActions, FormProblem, useDialogRequest } from './dialogForm'
import { dmPeople } from './directory'

/** `New direct message`: the people, by username; the dm (found again or made) opens once joined. */
export function NewDirectMessageDialog({ me, onClose, onStart }: {
  me: User
  onClose(): void
  /** Opens the dm with these usernames; rejects with the server's error. */
  onStart(usernames: string[]): Promise<void>
}) {
  const id = useId()
  const [people, setPeople] = useState('')
  const { problem, busy, submit: request } = useDialogRequest()

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const { users, problem: why } = dmPeople(people, me)
    void request(why, () => onStart(users))
  }

  return (
    <Dialog title="New direct message" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-people`}>People</label>
        <input
          id={`${id}-people`}
          value={people}
          autoFocus
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-hint`}
          onChange={(event) => setPeople(event.target.value)}
        />
        <p id={`${id}-hint`} className="muted small">Usernames, separated by commas or spaces (up to 7)</p>
        <FormProblem problem={problem} />
        <DialogFormActions label="Start" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  )
}
