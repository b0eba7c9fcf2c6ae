import type { User } from '../lib'
import { useServices } from './context'
import { useStore } from './store'
import { MessageLog } from './MessageLog'
import { Composer } from './Composer'
import { OnlinePanel } from './OnlinePanel'
import { typingText } from './view'

export function RoomView({ room, user }: { room: string; user: User }) {
  const { client } = useServices()
  const view = useStore(client.room(room))
  const people = useStore(client.presence(room))
  const typists = useStore(client.typing(room))

  return (
    <div className="room-view">
      <section className="conversation" aria-labelledby="room-title">
        <header className="room-header">
          <h1 id="room-title">
            <span className="room-hash" aria-hidden="true" />
            {room}
          </h1>
          <span className="muted small">
            {people.length === 1 ? '1 person here' : `${people.length} people here`}
          </span>
        </header>
        {view.error && (
          <div role="alert" className="room-error">
            {view.error}
          </div>
        )}
        <MessageLog room={room} user={user} view={view} />
        <div role="status" aria-label="Typing" className="typing">
          {typingText(typists)}
        </div>
        <Composer room={room} userId={user.id} />
      </section>
      <OnlinePanel people={people} me={user} />
    </div>
  )
}
