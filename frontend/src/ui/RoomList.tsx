import type { MouseEvent } from 'react'
import type { RoomSummary } from '../lib'
import { pathForRoom } from './route'

interface Props {
  current: string | null
  rooms: RoomSummary[]
  onNavigate(room: string): void
}

function byName(a: RoomSummary, b: RoomSummary) {
  return a.name.localeCompare(b.name)
}

export function RoomList({ current, rooms, onNavigate }: Props) {
  const known = current === null || rooms.some((room) => room.name === current)
  const all: RoomSummary[] = known
    ? rooms
    : [...rooms, { name: current, last_seq: 0, member: true, unread: 0, online: 0 }]
  const joined = all.filter((room) => room.member || room.name === current).sort(byName)
  const others = all.filter((room) => !room.member && room.name !== current).sort(byName)

  function follow(event: MouseEvent<HTMLAnchorElement>, room: string) {
    // Let modified clicks open a new tab as usual.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    onNavigate(room)
  }

  const renderRoom = (room: RoomSummary) => {
    const isCurrent = room.name === current
    const unread = isCurrent ? 0 : room.unread
    return (
      <li key={room.name}>
        <a
          href={pathForRoom(room.name)}
          className="room-link"
          aria-current={isCurrent ? 'page' : undefined}
          data-unread={unread > 0 || undefined}
          onClick={(event) => follow(event, room.name)}
        >
          <span className="room-hash" aria-hidden="true" />
          <span className="room-name">{room.name}</span>
          {unread > 0 && (
            <>
              {' '}
              <span className="badge" title={`${unread} unread`}>
                {unread}
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
        {joined.length === 0 ? (
          <p className="muted small">You have not joined any room yet.</p>
        ) : (
          <ul className="room-list">{joined.map(renderRoom)}</ul>
        )}
      </div>
      {others.length > 0 && (
        <div className="room-group">
          <h2 className="section-title">More rooms</h2>
          <ul className="room-list">{others.map(renderRoom)}</ul>
        </div>
      )}
    </nav>
  )
}
