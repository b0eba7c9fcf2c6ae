import { useState } from 'react'
import type { User } from '../lib'
import { useServices } from './context'
import { useStore } from './store'
import { MessageLog } from './MessageLog'
import { Composer } from './Composer'
import { OnlinePanel } from './OnlinePanel'
import { typingText } from './view'

interface Props {
  room: string
  user: User
  /** The room was left for good from its header: go elsewhere. */
  onLeft(room: string): void
}

export function RoomView({ room, user, onLeft }: Props) {
  const { client } = useServices()
  const view = useStore(client.room(room))
  const people = useStore(client.presence(room))
  const typists = useStore(client.typing(room))
  const [leaving, setLeaving] = useState(false)
  const [leaveProblem, setLeaveProblem] = useState<string | null>(null)
  // Once joined, a room that is joining again lost its connection: presence may be out of date.
  const [wasJoined, setWasJoined] = useState(false)
  if (view.status === 'joined' && !wasJoined) setWasJoined(true)
  const stale = wasJoined && view.status === 'joining'

  async function leave() {
    setLeaving(true)
    setLeaveProblem(null)
    try {
      await client.leave(room)
      onLeft(room)
    } catch (error) {
      setLeaveProblem(`Could not leave #${room}: ${error instanceof Error ? error.message : String(error)}`)
      setLeaving(false)
    }
  }

  return (
    <div className="room-view">
      <section className="conversation" aria-labelledby="room-title">
        <header className="room-header">
          <h2 id="room-title">
            <span className="room-hash" aria-hidden="true" />
            {room}
          </h2>
          <span className="muted small room-people">
            {people.length === 1 ? '1 person here' : `${people.length} people here`}
          </span>
          <button type="button" className="small-button leave-button" onClick={leave} disabled={leaving}>
            Leave room
          </button>
        </header>
        {(leaveProblem ?? view.error) && (
          <div role="alert" className="room-error">
            {leaveProblem ?? view.error}
          </div>
        )}
        <MessageLog room={room} user={user} view={view} />
        <div role="status" aria-label="Typing" className="typing">
          {typingText(typists)}
        </div>
        <Composer room={room} userId={user.id} />
      </section>
      <OnlinePanel people={people} me={user} stale={stale} />
    </div>
  )
}
