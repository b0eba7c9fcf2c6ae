import type { MouseEvent } from 'react'
import { unknownRoom, type RoomSummary, type User } from '../lib'
import { groupRooms, roomTitle } from './directory'
import { pathForRoom } from './route'

interface Props {
  current: string | null
  rooms: RoomSummary[]
  me: User
  onNavigate(room: string): void
}

export function RoomList({ current, rooms, me, onNavigate }: Props) {
  const known = current === null || rooms.some((room) => room.name === current)
  const all = known || current === null ? rooms : [...rooms, unknownRoom(current)]
  const { yours, direct, more } = groupRooms(all, current, me)

  function follow(event: MouseEvent<HTMLAnchorElement>, room: string) {
    // Let modified clicks open a new tab as usual.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    onNavigate(room)
  }

  const renderRoom = (room: RoomSummary) => {
    const isCurrent = room.name === current
    const unread = isCurrent ? 0 : room.unread
    const mentions = isCurrent ? 0 : room.mentions
    const icon = room.kind === 'dm' ? 'room-dm' : room.kind === 'private' ? 'room-lock' : 'room-hash'
    return (
      <li key={room.name}>
        <a
          href={pathForRoom(room.name)}
          className="room-link"
          aria-current={isCurrent ? 'page' : undefined}
          data-unread={unread > 0 || undefined}
          onClick={(event) => follow(event, room.name)}
        >
          <span className={icon} aria-hidden="true" title={room.kind === 'private' ? 'Private room' : undefined} />
          <span className="room-name">{roomTitle(room, me)}</span>
          {unread > 0 && (
            <>
              {' '}
              <span className="badge" title={`${unread} unread`}>
                {unread}
              </span>
            </>
          )}
          {mentions > 0 && (
            <>
              {' '}
              <span className="badge mention-badge" title={`${mentions} unread ${mentions === 1 ? 'mention' : 'mentions'} of you`}>
                @{mentions}
              </span>
            </>
          )}
        </a>
      </li>
    )
  }

  return (
    <nav aria-label="Rooms" className="room-nav">
      <div className="room-group">
        <h2 className="section-title">Your rooms</h2>
        {yours.length === 0 ? (
          <p className="muted small">You have not joined any room yet.</p>
        ) : (
          <ul className="room-list">{yours.map(renderRoom)}</ul>
        )}
      </div>
      {direct.length > 0 && (
        <div className="room-group">
          <h2 className="section-title">Direct messages</h2>
          <ul className="room-list">{direct.map(renderRoom)}</ul>
        </div>
      )}
      {more.length > 0 && (
        <div className="room-group">
          <h2 className="section-title">More rooms</h2>
          <ul className="room-list">{more.map(renderRoom)}</ul>
        </div>
      )}
    </nav>
  )
}
