import { useId, useState, type FormEvent } from 'react'
import { normalizeRoomName, roomNameProblem } from './view'

export function JoinRoomForm({ onJoin }: { onJoin(room: string): void }) {
  const [value, setValue] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const hintId = useId()

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const name = normalizeRoomName(value)
    const why = roomNameProblem(name)
    setProblem(why)
    if (why) return
    setValue('')
    onJoin(name)
  }

  return (
    <form className="join-form" onSubmit={submit} noValidate>
      <label htmlFor={`${hintId}-input`} className="section-title">
        Room name
      </label>
      <div className="join-row">
        <input
          id={`${hintId}-input`}
          value={value}
          placeholder="e.g. general"
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          aria-invalid={problem ? true : undefined}
          aria-describedby={hintId}
          onChange={(event) => {
            setValue(event.target.value.toLowerCase())
            if (problem) setProblem(null)
          }}
        />
        <button type="submit">Join</button>
      </div>
      <p id={hintId} className={problem ? 'field-error' : 'muted small'} role={problem ? 'alert' : undefined}>
        {problem ?? 'a–z, 0–9, - and _'}
      </p>
    </form>
  )
}
