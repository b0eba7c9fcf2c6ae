import { useId, useState, type FormEvent } from 'react'
import { MAX_TOPIC_LENGTH, type RoomSummary, type User } from '../lib'
import { Avatar } from './Avatar'
import { useServices } from './context'
import { Dialog } from './Dialog'
import { FormProblem } from './dialogForm'
import { NotifyLevelField } from './NotifyLevelField'
import { isOwner, roomTitle } from './directory'
import { requestProblem } from './problems'

interface Props {
  room: RoomSummary
  me: User
  onClose(): void
  /** Opens a dm with this user. */
  onMessage(username: string): void
  /** Leaves the room for good (not offered in a dm). */
  onLeave(): void
  leaving: boolean
}

/** `Room settings`: the topic; for a private room its members, invite and remove; leave. */
export function RoomSettingsDialog({ room, me, onClose, onMessage, onLeave, leaving }: Props) {
  const { client } = useServices()
  const id = useId()
  const [topic, setTopic] = useState(room.topic)
  const [invitee, setInvitee] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [done, setDone] = useState('')
  const [busy, setBusy] = useState(false)
  const owner = isOwner(room, me)
  // A private room's topic is the owner's; any member sets it elsewhere.
  const mayEditTopic = room.kind !== 'private' || owner
  const members = room.members

  async function run(action: () => Promise<void>, success: string) {
    setBusy(true)
    setProblem(null)
    setDone('')
    try {
      await action()
      setDone(success)
      return true
    } catch (error) {
      setProblem(requestProblem(error))
      return false
    } finally {
      setBusy(false)
    }
  }

  function saveTopic(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    void run(() => client.setTopic(room.name, topic.trim()), 'Topic saved.')
  }

  async function invite(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const username = invitee.trim().replace(/^@/, '')
    if (username === '') return setProblem('Enter the username of the person to invite.')
    if (await run(() => client.invite(room.name, username), `${username} is invited.`)) setInvitee('')
  }

  return (
    <Dialog title="Room settings" onClose={onClose}>
      <p className="muted small dialog-lead">
        {room.kind === 'dm' ? `Direct message with ${roomTitle(room, me)}` : room.kind === 'private' ? `Private room ${room.name}` : `Public room ${room.name}`}
        {room.owner && room.kind !== 'dm' ? ` · owner ${room.owner.username}` : ''}
      </p>
      <form className="dialog-form" onSubmit={saveTopic} noValidate>
        <label htmlFor={`${id}-topic`}>Topic</label>
        <div className="join-row">
          <input
            id={`${id}-topic`}
            value={topic}
            maxLength={MAX_TOPIC_LENGTH}
            readOnly={!mayEditTopic}
            aria-describedby={mayEditTopic ? undefined : `${id}-topic-hint`}
            onChange={(event) => setTopic(event.target.value)}
          />
          <button type="submit" disabled={busy || !mayEditTopic}>
            Save
          </button>
        </div>
        {!mayEditTopic && (
          <p id={`${id}-topic-hint`} className="muted small">
            Only the room’s owner changes its topic.
          </p>
        )}
      </form>

      <NotifyLevelField room={room} />

      {members && (
        <section className="dialog-section" aria-labelledby={`${id}-members`}>
          <h3 id={`${id}-members`} className="section-title">
            Members — {members.length}
          </h3>
          <ul aria-label="Members" className="member-list">
            {members.map((member) => (
              <li key={member.id} className="person">
                <Avatar user={member} />
                <span className="person-name">
                  {member.username}
                  {member.id === me.id && <span className="muted small"> (you)</span>}
                  {room.owner?.id === member.id && <span className="muted small"> · owner</span>}
                </span>
                {member.id !== me.id && (
                  <button
                    type="button"
                    className="small-button"
                    aria-label={`Message ${member.username}`}
                    onClick={() => onMessage(member.username)}
                  >
                    Message
                  </button>
                )}
                {member.id !== me.id && member.id !== room.owner?.id && owner && room.kind === 'private' && (
                  <button
                    type="button"
                    className="small-button danger-button"
                    aria-label={`Remove ${member.username}`}
                    disabled={busy}
                    onClick={() => void run(() => client.remove(room.name, member.username), `${member.username} is removed.`)}
                  >
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}

      {room.kind === 'private' && (
        <form className="dialog-form" onSubmit={invite} noValidate>
          <label htmlFor={`${id}-invite`}>Invite</label>
          <div className="join-row">
            <input
              id={`${id}-invite`}
              value={invitee}
              placeholder="username"
              autoCapitalize="none"
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => setInvitee(event.target.value)}
            />
            <button type="submit" disabled={busy}>
              Invite
            </button>
          </div>
        </form>
      )}

      <FormProblem problem={problem} />
      <p role="status" className="muted small">
        {done}
      </p>

      <div className="dialog-actions">
        {room.kind !== 'dm' && (
          <button type="button" className="danger-button" onClick={onLeave} disabled={leaving}>
            Leave room
          </button>
        )}
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  )
}
