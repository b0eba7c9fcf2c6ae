import { useId, useState } from 'react'
import { NOTIFY_LEVELS, levelOf, type NotifyLevel, type RoomSummary } from '../lib'
import { useServices } from './context'
import { requestProblem } from './problems'
import { useStore } from './store'

const LABELS: Record<NotifyLevel, string> = { all: 'All messages', mentions: 'Mentions', nothing: 'Nothing' }

/** `Notify me about`: the room's level, kept on the server for every device of this person. */
export function NotifyLevelField({ room }: { room: RoomSummary }) {
  const { client } = useServices()
  const id = useId()
  const levels = useStore(client.notifyLevels)
  const level = levelOf(levels, room.name, room.kind)
  const [problem, setProblem] = useState<string | null>(null)
  const [saving, setSaving] = useState<NotifyLevel | null>(null)

  async function choose(next: NotifyLevel) {
    setSaving(next)
    setProblem(null)
    try {
      await client.setNotifyLevel(room.name, next)
    } catch (error) {
      setProblem(`Could not change notifications: ${requestProblem(error)}`)
    } finally {
      setSaving(null)
    }
  }

  return (
    <fieldset className="dialog-section notify-levels" aria-describedby={problem ? `${id}-problem` : undefined}>
      <legend className="section-title">Notify me about</legend>
      {NOTIFY_LEVELS.map((value) => (
        <label key={value} className="radio-row">
          <input
            type="radio"
            name={`${id}-level`}
            value={value}
            checked={(saving ?? level) === value}
            onChange={() => void choose(value)}
          />
          {LABELS[value]}
        </label>
      ))}
      {problem && (
        <p id={`${id}-problem`} role="alert" className="form-error">
          {problem}
        </p>
      )}
    </fieldset>
  )
}
