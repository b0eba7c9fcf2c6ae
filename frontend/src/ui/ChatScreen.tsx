import { useEffect, useLayoutEffect, useRef, useState } from 'react'
import { ApiError, ROOM_REFUSED, unknownRoom, type User } from '../lib'
import { Avatar } from './Avatar'
import { useServices } from './context'
import { useStore } from './store'
import { ConnectionStatus } from './ConnectionStatus'
import { RoomList } from './RoomList'
import { JoinRoomForm } from './JoinRoomForm'
import { RoomView } from './RoomView'
import { SearchBox } from './SearchBox'
import { roomTitle } from './directory'
import { NewRoomDialog } from './NewRoomDialog'
import { NewDirectMessageDialog } from './NewDirectMessageDialog'
import { documentTitle, normalizeRoomName, roomNameProblem } from './view'
import { showUnreadDot } from './favicon'
import { NotificationsButton } from './NotificationsButton'

/** Where a person lands (made by the server's migration, so it always exists). */
export const HOME_ROOM = 'general'

/** Moves focus to the open room's log, as the skip link's target. */
function focusMessages(event: React.MouseEvent<HTMLAnchorElement>) {
  const log = document.querySelector<HTMLElement>('[role="log"]')
  if (!log) return
  event.preventDefault()
  log.focus()
}

export function ChatScreen({ user }: { user: User }) {
  const { client, route, notifier } = useServices()
  const room = useStore(route)
  const rooms = useStore(client.rooms)
  const notice = useStore(client.notice)
  const [dialog, setDialog] = useState<'room' | 'dm' | null>(null)
  const [dismissed, setDismissed] = useState<number | null>(null)
  const [loggingOut, setLoggingOut] = useState(false)
  const [logoutProblem, setLogoutProblem] = useState<string | null>(null)

  const roomProblem = room === null ? null : roomNameProblem(room)
  const openRoom = roomProblem === null ? room : null
  const openView = useStore(client.room(openRoom ?? HOME_ROOM))
  const refused = openRoom !== null && openView.status === 'error' && openView.error === ROOM_REFUSED

  // A layout effect, so the room is focused (its unread count taken for the
  // New messages line) before the log's own effects mark anything read.
  useLayoutEffect(() => {
    if (openRoom === null) return
    client.open(openRoom)
    client.focus(openRoom)
    return () => client.focus(null)
  }, [client, openRoom])

  // The bare address lands in general, in place of it (Back does not come here again).
  useEffect(() => {
    if (room === null) route.replace(HOME_ROOM)
  }, [room, route])

  // A room this person lost while reading it (removed by its owner): back to general, with the notice.
  const noticeHandled = useRef<number | null>(null)
  useEffect(() => {
    if (!notice || noticeHandled.current === notice.id) return
    noticeHandled.current = notice.id
    if (notice.room === route.getState()) route.navigate(HOME_ROOM)
  }, [notice, route])

  const openSummary = openRoom === null ? null : (rooms.find((summary) => summary.name === openRoom) ?? unknownRoom(openRoom))
  // A dm is called by who it is with, in the tab's title too.
  const openTitle = openSummary && (openSummary.kind === 'dm' ? roomTitle(openSummary, user) : `#${openSummary.name}`)
  const unreadElsewhere = rooms.reduce((sum, summary) => (summary.name === openRoom ? sum : sum + summary.unread), 0)
  useEffect(() => {
    document.title = documentTitle(openTitle, unreadElsewhere)
  }, [openTitle, unreadElsewhere])
  useEffect(() => {
    showUnreadDot(unreadElsewhere > 0)
    return () => showUnreadDot(false)
  }, [unreadElsewhere])

  function go(name: string) {
    route.navigate(name)
  }

  async function startDm(usernames: string[]) {
    const name = await client.directMessage(usernames)
    setDialog(null)
    route.navigate(name)
  }

  /** After leaving `left` for good: general, or (leaving general) another room of theirs. */
  function afterLeaving(left: string) {
    const elsewhere = rooms.find((summary) => summary.member && summary.name !== left)?.name
    const next = left !== HOME_ROOM ? HOME_ROOM : elsewhere
    if (next) route.navigate(next)
  }

  async function logOut() {
    setLoggingOut(true)
    setLogoutProblem(null)
    try {
      // While the session lasts: the server forgets this browser's push subscription.
      await notifier.beforeLogout()
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
      <a href="#messages" className="skip-link" onClick={focusMessages}>
        Skip to messages
      </a>
      <header className="topbar">
        <h1 className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Chat</span>
        </h1>
        <SearchBox user={user} />
        <span className="spacer" />
        <NotificationsButton />
        <span className="whoami" title={`Signed in as ${user.username}`}>
          <Avatar user={user} />
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
          <div className="sidebar-actions">
            <button type="button" className="small-button" onClick={() => setDialog('room')}>
              New room
            </button>
            <button type="button" className="small-button" onClick={() => setDialog('dm')}>
              New direct message
            </button>
          </div>
          <RoomList current={refused ? null : openRoom} rooms={rooms} me={user} onNavigate={go} />
          <JoinRoomForm onJoin={go} />
        </aside>
        <main className="room-area">
          {notice && notice.id !== dismissed && (
            <div role="status" className="notice">
              <span>{notice.text}</span>
              <button type="button" className="small-button" onClick={() => setDismissed(notice.id)}>
                Dismiss
              </button>
            </div>
          )}
          {openRoom !== null ? (
            <RoomView
              key={openRoom}
              room={openRoom}
              summary={openSummary ?? unknownRoom(openRoom)}
              user={user}
              onLeft={afterLeaving}
              onMessage={(username) => startDm([username])}
            />
          ) : room !== null ? (
            <div className="empty-state" role="alert">
              <h2>“{room}” is not a room name</h2>
              <p>{roomProblem}</p>
              <p>Try {normalizeRoomName(room) !== room ? `“${normalizeRoomName(room)}” or ` : ''}another name in the Join form.</p>
            </div>
          ) : null}
        </main>
      </div>
      {dialog === 'room' && (
        <NewRoomDialog
          onClose={() => setDialog(null)}
          onCreated={(name) => {
            setDialog(null)
            route.navigate(name)
          }}
        />
      )}
      {dialog === 'dm' && <NewDirectMessageDialog me={user} onClose={() => setDialog(null)} onStart={startDm} />}
    </div>
  )
}
