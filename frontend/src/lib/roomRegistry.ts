// The objects the client keeps per room: its log (Room), who is here, who is
// typing, its uploads. Each is created on first use and kept for the page's life
// (the UI holds the stores), and emptied, not dropped, when the session ends.
import type { Clock } from './env'
import { Room, type RoomHost } from './room'
import { createStore, type WritableStore } from './store'
import { TypingIndicators } from './typing'
import { UploadQueue, type StartUpload } from './uploads'
import type { User } from './types'

export interface RoomTyping {
  store: WritableStore<User[]>
  indicators: TypingIndicators
}

export class RoomRegistry {
  private readonly roomByName = new Map<string, Room>()
  private readonly presenceByName = new Map<string, WritableStore<User[]>>()
  private readonly typingByName = new Map<string, RoomTyping>()
  private readonly uploadsByName = new Map<string, UploadQueue>()

  constructor(
    private readonly host: RoomHost,
    private readonly clock: Clock,
    private readonly selfId: () => number | null,
    private readonly startUpload: StartUpload,
  ) {}

  room(name: string): Room {
    let r = this.roomByName.get(name)
    if (!r) {
      r = new Room(name, this.host)
      this.roomByName.set(name, r)
    }
    return r
  }

  /** Every room made so far. */
  rooms(): IterableIterator<Room> {
    return this.roomByName.values()
  }

  presence(name: string): WritableStore<User[]> {
    let store = this.presenceByName.get(name)
    if (!store) this.presenceByName.set(name, (store = createStore<User[]>([])))
    return store
  }

  typing(name: string): RoomTyping {
    let entry = this.typingByName.get(name)
    if (!entry) {
      const store = createStore<User[]>([])
      entry = { store, indicators: new TypingIndicators(this.clock, this.selfId, (users) => store.setState(users)) }
      this.typingByName.set(name, entry)
    }
    return entry
  }

  uploads(name: string): UploadQueue {
    let queue = this.uploadsByName.get(name)
    if (!queue) {
      queue = new UploadQueue(this.startUpload)
      this.uploadsByName.set(name, queue)
    }
    return queue
  }

  /** The socket closed: every room waits to be joined again, and nobody is typing. */
  disconnected(): void {
    for (const r of this.roomByName.values()) r.disconnected()
    for (const { indicators } of this.typingByName.values()) indicators.reset()
  }

  /** The session ended: every room's stores back to empty. */
  reset(): void {
    for (const queue of this.uploadsByName.values()) queue.clear()
    for (const r of this.roomByName.values()) r.reset()
    for (const store of this.presenceByName.values()) store.setState([])
    for (const { indicators } of this.typingByName.values()) indicators.reset()
  }
}
