import { useEffect, useLayoutEffect, useState } from 'react'
import { ApiError, type User } from '../lib'
import { useServices } from './context'
import { useStore } from './store'
import { ConnectionStatus } from './ConnectionStatus'
import { RoomList } from './RoomList'
import { JoinRoomForm } from './JoinRoomForm'
import { RoomView } from './RoomView'
import { documentTitle, normalizeRoomName, roomNameProblem } from './view'

export function ChatScreen({ user }: { user: User }) {
  const { client, route } = useServices()
  const room = useStore(route)
  const rooms = useStore(client.rooms)
  const [loggingOut, setLoggingOut] = useState(false)
  const [logoutProblem, setLogoutProblem] = useState<string | null>(null)

  const roomProblem = room === null ? null : roomNameProblem(room)
  const openRoom = roomProblem === null ? room : null

  // A layout effect, so the room is focused (its unread count taken for the
  // New messages line) before the log's own effects mark anything read.
  useLayoutEffect(() => {
    if (openRoom === null) return
    client.open(openRoom)
    client.focus(openRoom)
    return () => client.focus(null)
  }, [client, openRoom])

  const unreadElsewhere = rooms.reduce((sum, summary) => (summary.name === openRoom ? sum : sum + summary.unread), 0)
  useEffect(() => {
    document.title = documentTitle(openRoom, unreadElsewhere)
  }, [openRoom, unreadElsewhere])

  function go(name: string) {
    route.navigate(name)
  }

  async function logOut() {
    setLoggingOut(true)
    setLogoutProblem(null)
    try {
      await client.logout()
    } catch (error) {
      const reason = error instanceof ApiError ? error.message : String(error)
      setLogoutProblem(`Could not log out: ${reason}`)
    } finally {
      setLoggingOut(false)
    }
  }

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Chat
        </span>
        <span className="spacer" />
        <span className="whoami" title={`Signed in as ${user.username}`}>
          <Avatar name={user.username} />
          <span className="whoami-name">{user.username}</span>
        </span>
        <button type="button" onClick={logOut} disabled={loggingOut}>
          Log out
        </button>
      </header>
      {logoutProblem && (
        <p role="alert" className="form-error logout-error">
          {logoutProblem}
        </p>
      )}
      <ConnectionStatus />
      <div className="workspace">
        <aside className="sidebar">
          <RoomList current={openRoom} rooms={rooms} onNavigate={go} />
          <JoinRoomForm onJoin={go} />
        </aside>
        <main className="room-area">
          {openRoom !== null ? (
            <RoomView key={openRoom} room={openRoom} user={user} />
          ) : room !== null ? (
            <div className="empty-state" role="alert">
              <h1>“{room}” is not a room name</h1>
              <p>{roomProblem}</p>
              <p>Try {normalizeRoomName(room) !== room ? `“${normalizeRoomName(room)}” or ` : ''}another name in the Join form.</p>
            </div>
          ) : (
            <div className="empty-state">
              <h1>Welcome, {user.username}</h1>
              <p>Pick a room on the left, or type a room name and press Join to open or create one.</p>
            </div>
          )}
        </main>
      </div>
    </div>
  )
}

/** Initials on a colour picked from the name, so people are told apart at a glance. */
export function Avatar({ name }: { name: string }) {
  let hash = 0
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) | 0
  const hue = Math.abs(hash) % 360
  return (
    // The initial is drawn by CSS so it never joins the text of a message or a list item.
    <span
      className="avatar"
      aria-hidden="true"
      data-initial={name.slice(0, 1).toUpperCase()}
      style={{ '--avatar-hue': hue } as React.CSSProperties}
    />
  )
}
