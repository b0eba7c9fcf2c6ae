import { useEffect, useRef, useState, useSyncExternalStore } from 'react'
import { ROOM_REFUSED, type Message, type RoomSummary, type User } from '../lib'
import { useServices } from './context'
import { useStore } from './store'
import { MessageLog } from './MessageLog'
import { Composer } from './Composer'
import { OnlinePanel } from './OnlinePanel'
import { RoomSettingsDialog } from './RoomSettingsDialog'
import { roomTitle } from './directory'
import { requestProblem } from './problems'
import { typingText } from './view'
import { useFileDrop } from './fileDrop'
import { chooseFiles } from './fileChoice'

interface Props {
  room: string
  /** What the room list knows of it (kind, topic, members). */
  summary: RoomSummary
  user: User
  /** The room was left for good from its header: go elsewhere. */
  onLeft(room: string): void
  /** Opens a dm with this user; rejects with the server's error. */
  onMessage(username: string): Promise<void>
}

export function RoomView({ room, summary, user, onLeft, onMessage }: Props) {
  const { client, route } = useServices()
  const view = useStore(client.room(room))
  // Opened at one message (/r/<room>?m=<seq>: a search result, or a reload of one).
  const target = useSyncExternalStore(route.subscribe, route.target, route.target)
  const mounted = useRef(false)
  useEffect(() => {
    const first = !mounted.current
    mounted.current = true
    if (target) void client.jumpTo(room, target.seq)
    // Come back to without a message named: read at its live end, not at a slice left earlier.
    else if (first && client.room(room).getState().hasNewer) void client.jumpToLatest(room)
  }, [client, room, target])
  const people = useStore(client.presence(room))
  const typists = useStore(client.typing(room))
  const [leaving, setLeaving] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const [settingsOpen, setSettingsOpen] = useState(false)
  const [replyTo, setReplyTo] = useState<Message | null>(null)
  const canModerate = Boolean(user.is_staff) || (summary.owner !== null && summary.owner.id === user.id)
  // Once joined, a room that is joining again lost its connection: presence may be out of date.
  const [wasJoined, setWasJoined] = useState(false)
  if (view.status === 'joined' && !wasJoined) setWasJoined(true)
  const stale = wasJoined && view.status === 'joining'
  const title = roomTitle(summary, user)
  const isDm = summary.kind === 'dm'
  const drop = useFileDrop((files) => {
    const leftOut = chooseFiles(client.uploads(room), files)
    if (leftOut) setProblem(leftOut)
  })

  async function leave() {
    setLeaving(true)
    setProblem(null)
    try {
      await client.leave(room)
      setSettingsOpen(false)
      onLeft(room)
    } catch (error) {
      setProblem(`Could not leave ${title}: ${error instanceof Error ? error.message : String(error)}`)
      setLeaving(false)
    }
  }

  function message(username: string) {
    setProblem(null)
    onMessage(username).then(
      () => setSettingsOpen(false),
      (error: unknown) => {
        setSettingsOpen(false)
        setProblem(`Could not message ${username}: ${requestProblem(error)}`)
      },
    )
  }

  // A room this person may not read (or that does not exist) shows nothing of itself.
  if (view.status === 'error' && view.error === ROOM_REFUSED) {
    return (
      <div className="empty-state" role="alert">
        <h2>Cannot open “{room}”</h2>
        <p>{ROOM_REFUSED}</p>
      </div>
    )
  }

  return (
    <div className="room-view">
      <section className="conversation" aria-labelledby="room-title" {...drop.handlers}>
        {drop.dragging && (
          <div className="drop-zone" aria-hidden="true">
            Drop files to attach them
          </div>
        )}
        <header className="room-header">
          <div className="room-heading">
            <h2 id="room-title" aria-describedby={summary.topic ? 'room-topic' : undefined}>
              <span className={isDm ? 'room-dm' : summary.kind === 'private' ? 'room-lock' : 'room-hash'} aria-hidden="true" />
              {title}
            </h2>
            {summary.topic && (
              <p id="room-topic" className="room-topic" title={summary.topic}>
                {summary.topic}
              </p>
            )}
          </div>
          <span className="muted small room-people">
            {people.length === 1 ? '1 person here' : `${people.length} people here`}
          </span>
          <button type="button" className="small-button settings-button" onClick={() => setSettingsOpen(true)}>
            Room settings
          </button>
          {!isDm && (
            <button type="button" className="small-button leave-button" onClick={leave} disabled={leaving}>
              Leave room
            </button>
          )}
        </header>
        {(problem ?? view.error) && (
          <div role="alert" className="room-error">
            {problem ?? view.error}
          </div>
        )}
        <MessageLog
          room={room}
          label={isDm ? title : `#${title}`}
          user={user}
          view={view}
          canModerate={canModerate}
          onReply={setReplyTo}
        />
        <div role="status" aria-label="Typing" className="typing">
          {typingText(typists)}
        </div>
        <Composer
          room={room}
          me={user}
          placeholder={isDm ? `Message ${title}` : undefined}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          mentionSources={{ members: summary.members, present: people, messages: view.messages }}
        />
      </section>
      <OnlinePanel people={people} me={user} stale={stale} onMessage={message} />
      {settingsOpen && (
        <RoomSettingsDialog
          room={summary}
          me={user}
          onClose={() => setSettingsOpen(false)}
          onMessage={message}
          onLeave={() => void leave()}
          leaving={leaving}
        />
      )}
    </div>
  )
}
