// First cut: the stores and commands exist so the UI can wire to them; the
// socket behind them follows.
import { createStore, type WritableStore } from './store'
import type {
  ChatClient, ChatClientOptions, ConnectionState, RoomSummary, RoomView, SessionState, User,
} from './types'

export function createChatClient(options: ChatClientOptions): ChatClient {
  void options
  const session = createStore<SessionState>({ status: 'unknown', user: null })
  const connection = createStore<ConnectionState>({ status: 'idle', retryAt: null })
  const rooms = createStore<RoomSummary[]>([])
  const roomStores = new Map<string, WritableStore<RoomView>>()
  const presenceStores = new Map<string, WritableStore<User[]>>()
  const typingStores = new Map<string, WritableStore<User[]>>()
  const memo = <T>(map: Map<string, WritableStore<T>>, name: string, initial: () => T) => {
    let store = map.get(name)
    if (!store) map.set(name, (store = createStore(initial())))
    return store
  }
  return {
    session, connection, rooms,
    room: (name) => memo(roomStores, name, () => ({
      name, status: 'joining', messages: [], pending: [], hasMore: false, loadingOlder: false, error: null,
    })),
    presence: (name) => memo(presenceStores, name, () => []),
    typing: (name) => memo(typingStores, name, () => []),
    start: async () => { session.setState({ status: 'anonymous', user: null }) },
    login: async () => {},
    signup: async () => {},
    logout: async () => {},
    open: () => {},
    focus: () => {},
    send: () => {},
    retry: () => {},
    loadOlder: async () => {},
    markRead: () => {},
    composerInput: () => {},
    composerIdle: () => {},
    reconnectNow: () => {},
    dispose: () => {},
  }
}
