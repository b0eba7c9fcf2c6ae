// The chat client: one socket, the rooms kept joined on it, and the stores the
// UI reads. This file only puts the parts together: frames arrive through one
// door (inbound.ts), and everything stateful is its own module.
import { SessionApi } from './api'
import { defaultEnv } from './env'
import { Focus } from './focus'
import { Inbound } from './inbound'
import { JoinedRooms } from './joinedRooms'
import { NotifySettings } from './notifySettings'
import { Outgoing } from './outgoing'
import { ReadMarkers } from './readMarkers'
import type { RoomHost } from './room'
import { RoomActions } from './roomActions'
import { RoomRegistry } from './roomRegistry'
import { roomRead } from './rooms'
import { RoomsRefresh } from './roomsRefresh'
import { MessageSearch } from './search'
import { Socket } from './socket'
import { createStore } from './store'
import { TypingStatus } from './typing'
import { startUpload } from './uploadRequest'
import type { ChatClient, ChatClientOptions, Notice, RoomSummary, SessionState, User } from './types'

export function createChatClient(options: ChatClientOptions): ChatClient {
  const env = defaultEnv(options.env)
  const api = new SessionApi(options.httpBase, env)
  const session = createStore<SessionState>({ status: 'unknown', user: null })
  const rooms = createStore<RoomSummary[]>([])
  const notice = createStore<Notice | null>(null)

  const selfId = () => session.getState().user?.id ?? null
  const currentUser = () => session.getState().user

  // ---- per-room objects, created on first use and kept (the UI holds the stores) ----

  const host: RoomHost = {
    request: (frame) => socket.request(frame),
    joined: (r, frame) => inbound.joined(r, frame),
    received: (r, messages) => inbound.received(r, messages),
    refused: (r, reason) => inbound.refused(r, reason),
  }
  const registry = new RoomRegistry(host, env.clock, selfId, (file, fileName, onProgress) =>
    startUpload({
      Xhr: env.XMLHttpRequest, url: `${options.httpBase}/api/uploads`, file, name: fileName, onProgress,
      csrfToken: () => api.csrfToken(),
    }),
  )
  const room = (name: string) => registry.room(name)

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
    onFrame: (frame, answered) => inbound.frame(frame, answered),
    onUnauthorized: signedOut,
  })
  const connected = () => socket.isConnected

  // ---- the parts ------------------------------------------------------------------
  // Each is made after what its constructor is given; the handlers above reach
  // the later ones (inbound, the queues) only once the socket has connected.

  // A search typed during a reconnect is sent once the socket is back.
  const search = new MessageSearch((frame) => socket.requestWhenConnected(frame))
  const notifySettings = new NotifySettings((frame) => socket.request(frame))
  const outboundTyping = new TypingStatus(env.clock, (name, active) => {
    if (room(name).joinedOnSocket) socket.send({ type: 'typing', room: name, active })
  })
  const stopTyping = (name: string) => outboundTyping.stop(name)
  const readMarkers = new ReadMarkers({ joined: (name) => room(name).joinedOnSocket, send: (frame) => socket.send(frame) })
  const joinedRooms = new JoinedRooms({
    room,
    connected,
    forgotten(name, reason) {
      readMarkers.forget(name)
      room(name).left(reason)
      notifySettings.forget(name)
      registry.presence(name).setState([])
      registry.typing(name).indicators.reset()
      outbox.failRoom(name, reason.replace(/\.$/, ''))
    },
  })
  const focus = new Focus({ rooms, room, allRooms: () => registry.rooms() })
  const roomsRefresh = new RoomsRefresh(
    { request: (frame) => socket.request(frame), connected, answered: (infos) => inbound.roomsListed(infos) },
    env,
  )
  const outgoing = new Outgoing({ env, request: (frame) => socket.request(frame), room, joinedRooms, user: currentUser, stopTyping })
  const { outbox, changes } = outgoing
  const roomActions = new RoomActions({
    request: (frame) => socket.request(frame),
    requestWhenConnected: (frame) => socket.requestWhenConnected(frame),
    rooms, joinedRooms, roomsRefresh, focused: () => focus.current, user: currentUser, stopTyping,
  })
  const inbound = new Inbound({
    rooms, notice, registry, joinedRooms, focus, roomsRefresh, readMarkers, outbox, changes, search, notifySettings, selfId,
  })

  // ---- the session -------------------------------------------------------------------

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
    presence: (name) => registry.presence(name),
    typing: (name) => registry.typing(name).store,
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
    onLiveMessage: (listener) => inbound.onLive(listener),
    dispose() {
      resetAll()
      inbound.dispose()
      socket.dispose()
      roomsRefresh.dispose()
    },
  }
}
