// The chat client: one socket, the rooms kept joined on it, and the stores the
// UI reads. Frames arrive through one door (onFrame) and each type has one
// handler; everything stateful below is delegated to its own module.
import { SessionApi } from './api'
import { defaultEnv } from './env'
import { Focus } from './focus'
import { JoinedRooms } from './joinedRooms'
import { applyPresenceDiff, presenceFromSnapshot } from './presence'
import type { JoinedFrame, RoomInfo, ServerFrame } from './protocol'
import { NotifySettings } from './notifySettings'
import { Outgoing } from './outgoing'
import { ReadMarkers } from './readMarkers'
import type { Room, RoomHost } from './room'
import { RoomActions } from './roomActions'
import { RoomRegistry } from './roomRegistry'
import { RoomsRefresh } from './roomsRefresh'
import { MessageSearch } from './search'
import {
  isListed, roomFromServer, roomJoined, roomMessageSeen, roomOnline, roomRead, roomRemoved,
  roomsFromServer,
} from './rooms'
import { Socket } from './socket'
import { createStore } from './store'
import { TypingStatus } from './typing'
import { startUpload } from './uploadRequest'
import type { ChatClient, ChatClientOptions, Message, Notice, RoomSummary, SessionState, User } from './types'

export function createChatClient(options: ChatClientOptions): ChatClient {
  const env = defaultEnv(options.env)
  const api = new SessionApi(options.httpBase, env)
  const session = createStore<SessionState>({ status: 'unknown', user: null })
  const rooms = createStore<RoomSummary[]>([])
  const notice = createStore<Notice | null>(null)
  let noticeCount = 0
  /** Who hears of messages that arrive live (desktop notifications). */
  const liveListeners = new Set<(message: Message) => void>()

  const selfId = () => session.getState().user?.id ?? null

  // ---- per-room objects, created on first use and kept (the UI holds the stores) ----

  const host: RoomHost = {
    request: (frame) => socket.request(frame),
    joined: onJoined,
    received(_room, messages) {
      const me = selfId()
      for (const m of messages) if (m.author.id === me && outbox.has(m.client_id)) outbox.acknowledge(m.client_id)
      search.seen(messages)
    },
    refused(room, reason) {
      joinedRooms.opened.delete(room.name)
      outbox.failRoom(room.name, reason)
      changes.failRoom(room.name, reason)
      // Not open to this user (e.g. removed while this tab was away): not theirs to list either.
      rooms.setState((list) => roomRemoved(list, room.name))
    },
  }

  // A search typed during a reconnect is sent once the socket is back.
  const search = new MessageSearch((frame) => socket.requestWhenConnected(frame))

  const registry = new RoomRegistry(host, env.clock, selfId, (file, fileName, onProgress) =>
    startUpload({
      Xhr: env.XMLHttpRequest, url: `${options.httpBase}/api/uploads`, file, name: fileName, onProgress,
      csrfToken: () => api.csrfToken(),
    }),
  )
  const room = (name: string) => registry.room(name)
  const presence = (name: string) => registry.presence(name)
  const typing = (name: string) => registry.typing(name)

  // ---- the socket ---------------------------------------------------------------

  const socket = new Socket(options.socketUrl, env, {
    onOpen() {
      roomsRefresh.request()
      notifySettings.load()
      joinedRooms.joinAll()
    },
    onClose() {
      registry.disconnected()
      outbox.disconnected()
      changes.disconnected()
      outboundTyping.stop()
      roomsRefresh.stop()
    },
    onFrame,
    onUnauthorized: signedOut,
  })

  const notifySettings = new NotifySettings((frame) => socket.request(frame))

  const readMarkers = new ReadMarkers({ joined: (name) => room(name).joinedOnSocket, send: (frame) => socket.send(frame) })

  const outboundTyping = new TypingStatus(env.clock, (name, active) => {
    if (room(name).joinedOnSocket) socket.send({ type: 'typing', room: name, active })
  })

  function onFrame(frame: ServerFrame, answered: boolean): void {
    switch (frame.type) {
      case 'message':
        onMessage(frame.message)
        for (const listener of [...liveListeners]) listener(frame.message)
        return
      case 'notify':
        return notifySettings.apply(frame)
      case 'update':
        return room(frame.room).receive(frame.message)
      case 'sent':
        // Also when its request timed out: the message is stored, so it is no longer failed.
        onMessage(frame.message)
        return outbox.acknowledge(frame.message.client_id)
      case 'typing':
        return typing(frame.room).indicators.typing(frame.user, frame.active)
      case 'room':
        return onRoomInfo(frame.room)
      case 'room_removed':
        return onRoomRemoved(frame.room)
      case 'presence': {
        const next = applyPresenceDiff(presence(frame.room).getState(), frame.joins, frame.leaves)
        presence(frame.room).setState(next)
        rooms.setState((list) => roomOnline(list, frame.room, next.length))
        for (const user of frame.leaves) typing(frame.room).indicators.clear(user.id)
        return
      }
      case 'error':
        if (!answered) console.warn(`chat: server error ${frame.code}: ${frame.detail}`)
        return
      default:
        // Replies are handled where they were asked for; a late one is of no use.
        return
    }
  }

  function onMessage(message: Message): void {
    // A room this tab does not list (made or opened elsewhere): the server's list has it.
    if (!isListed(rooms.getState(), message.room)) roomsRefresh.request()
    room(message.room).receive(message)
    rooms.setState((list) => roomMessageSeen(list, message, selfId(), focus.current))
    typing(message.room).indicators.clear(message.author.id)
  }

  /** The server's word on one room: it entered this user's list, or was left for good (on any tab). */
  function onRoomInfo(info: RoomInfo): void {
    const isNew = !isListed(rooms.getState(), info.name)
    rooms.setState((list) => roomFromServer(list, info, focus.current))
    if (!info.member) return joinedRooms.forget(info.name)
    // Invited, or a dm someone else opened: keep it joined so its messages count as unread live.
    joinedRooms.forgotten.delete(info.name)
    if (isNew || !joinedRooms.opened.has(info.name)) {
      joinedRooms.announced.add(info.name)
      joinedRooms.open(info.name)
    }
  }

  /** This user lost a private room (removed, or left it for good on another tab). */
  function onRoomRemoved(name: string): void {
    // Left here (leave with forget): the person knows; another tab of theirs hears it.
    const leftHere = joinedRooms.forgotten.has(name)
    const wasListed = isListed(rooms.getState(), name)
    rooms.setState((list) => roomRemoved(list, name))
    joinedRooms.forget(name, leftHere ? 'You left this room.' : 'You are no longer a member of this room.')
    if (!leftHere && (wasListed || name === focus.current)) {
      notice.setState({ id: ++noticeCount, text: `You are no longer a member of ${name}.`, room: name })
    }
  }

  function onJoined(r: Room, frame: JoinedFrame): void {
    const users = presenceFromSnapshot(frame.presence)
    presence(r.name).setState(users)
    const last = frame.messages[frame.messages.length - 1]
    rooms.setState((list) => roomJoined(list, r.name, last?.seq ?? null, users.length))
    if (r.name === focus.current) rooms.setState((list) => roomRead(list, r.name))
    outbox.flush()
    changes.flush()
    readMarkers.send(r.name)
    // Messages stored between the room's announcement and this join are counted by the server's list.
    if (joinedRooms.announced.delete(r.name)) roomsRefresh.request()
  }

  /** The server's answer to `rooms`. */
  function roomsListed(infos: readonly RoomInfo[]): void {
    focus.takeOpening(infos)
    rooms.setState((list) => roomsFromServer(list, infos, focus.current))
    for (const info of infos) {
      // Keep every room we belong to joined, so its unread count and presence stay live,
      if (info.member && !joinedRooms.forgotten.has(info.name)) joinedRooms.open(info.name)
      // and complete from the store what live frames never brought.
      if (joinedRooms.opened.has(info.name)) room(info.name).catchUp(info.last_seq, info.rev)
    }
  }

  const focus = new Focus({ rooms, room, allRooms: () => registry.rooms() })

  const roomsRefresh = new RoomsRefresh(
    { request: (frame) => socket.request(frame), connected: () => socket.isConnected, answered: roomsListed },
    env,
  )

  // ---- commands -----------------------------------------------------------------

  const joinedRooms = new JoinedRooms({
    room,
    connected: () => socket.isConnected,
    forgotten(name, reason) {
      readMarkers.forget(name)
      room(name).left(reason)
      notifySettings.forget(name)
      presence(name).setState([])
      typing(name).indicators.reset()
      outbox.failRoom(name, reason.replace(/\.$/, ''))
    },
  })

  const outgoing = new Outgoing({
    env, request: (frame) => socket.request(frame), room, joinedRooms, user: () => session.getState().user,
    stopTyping: (name) => outboundTyping.stop(name),
  })
  const { outbox, changes } = outgoing

  const roomActions = new RoomActions({
    request: (frame) => socket.request(frame),
    requestWhenConnected: (frame) => socket.requestWhenConnected(frame),
    rooms, joinedRooms, roomsRefresh, focused: () => focus.current, user: () => session.getState().user,
    stopTyping: (name) => outboundTyping.stop(name),
  })

  function authenticated(user: User): void {
    const previous = session.getState().user
    if (previous && previous.id !== user.id) resetAll()
    session.setState({ status: 'authenticated', user })
    outbox.load(user)
    changes.load(user)
    // Whatever an earlier page load left unsent goes out once its room is joined.
    for (const name of new Set([...outbox.rooms(), ...changes.rooms()])) joinedRooms.open(name)
    socket.connect()
  }

  /** The server has ended the session (logout, or 4401): back to the sign-in form. */
  function signedOut(): void {
    resetAll()
    session.setState({ status: 'anonymous', user: null })
  }

  function resetAll(): void {
    socket.disconnect()
    roomsRefresh.reset()
    outboundTyping.stop()
    joinedRooms.clear()
    notice.setState(null)
    search.clear()
    readMarkers.clear()
    focus.reset()
    outbox.clear()
    changes.clear()
    registry.reset()
    rooms.setState([])
    notifySettings.reset()
  }

  return {
    session,
    notice,
    connection: socket.connection,
    rooms,
    room: (name) => room(name).store,
    presence: (name) => presence(name),
    typing: (name) => typing(name).store,
    notifyLevels: notifySettings.store,

    async start() {
      try {
        const user = await api.current()
        if (user) authenticated(user)
        else session.setState({ status: 'anonymous', user: null })
      } catch (error) {
        console.warn('chat: cannot read the session', error)
        session.setState({ status: 'anonymous', user: null })
      }
    },
    async login(username, password) {
      authenticated(await api.login(username, password))
    },
    async signup(username, password) {
      authenticated(await api.signup(username, password))
    },
    async logout() {
      // Signed out only once the server has ended the session: if it cannot be
      // reached, showing the sign-in form would be undone by the next reload.
      await api.logout()
      signedOut()
    },

    open: (name) => joinedRooms.reopen(name),
    leave: (name) => roomActions.leave(name),
    create: (name, kind, topic) => roomActions.create(name, kind, topic),
    directMessage: (usernames) => roomActions.directMessage(usernames),
    invite: (name, username) => roomActions.invite(name, username),
    remove: (name, username) => roomActions.remove(name, username),
    setTopic: (name, topic) => roomActions.setTopic(name, topic),
    focus: (name) => focus.focus(name),
    send: (name, body, replyTo, attachments) => outgoing.send(name, body, replyTo, attachments),
    uploads: (name) => registry.uploads(name),
    fileUrl: (url) => (url.startsWith('/') && !url.startsWith('//') ? `${options.httpBase}${url}` : url),
    retry: (name, clientId) => outgoing.retry(name, clientId),
    change: (name, seq, what) => outgoing.change(name, seq, what),
    retryChange: (name, id) => outgoing.retryChange(name, id),
    discardChange: (_name, id) => changes.discard(id),
    reveal: (name, seq) => room(name).reveal(seq),
    loadOlder: (name) => room(name).loadOlder(),
    jumpTo(name, seq) {
      joinedRooms.reopen(name)
      return room(name).jumpTo(seq)
    },
    loadNewer: (name) => room(name).loadNewer(),
    jumpToLatest: (name) => room(name).jumpToLatest(),
    search,
    markRead(name, seq) {
      if (name === focus.current || seq >= (rooms.getState().find((r) => r.name === name)?.last_seq ?? 0)) {
        rooms.setState((list) => roomRead(list, name))
      }
      readMarkers.shown(name, seq)
    },
    composerInput: (name, text) => outboundTyping.update(name, text),
    composerIdle: (name) => outboundTyping.stop(name),
    reconnectNow: () => socket.reconnectNow(),
    setNotifyLevel: (name, level) => notifySettings.set(name, level),
    async pushSubscribe(endpoint, keys) {
      await socket.request({ type: 'push_subscribe', endpoint, keys })
    },
    async pushUnsubscribe(endpoint) {
      await socket.request({ type: 'push_unsubscribe', endpoint })
    },
    onLiveMessage(listener) {
      liveListeners.add(listener)
      return () => {
        liveListeners.delete(listener)
      }
    },
    dispose() {
      resetAll()
      liveListeners.clear()
      socket.dispose()
      roomsRefresh.dispose()
    },
  }
}
