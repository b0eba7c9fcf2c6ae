// The room being read (at most one), and the unread count it had when it
// became so: reading zeroes the count in the list, but the view still needs it.
import type { RoomInfo } from './protocol'
import type { Room } from './room'
import { roomRead } from './rooms'
import type { WritableStore } from './store'
import type { RoomSummary } from './types'

export interface FocusHost {
  rooms: WritableStore<RoomSummary[]>
  room(name: string): Room
  /** Every room made so far. */
  allRooms(): Iterable<Room>
}

export class Focus {
  /** The room being read, or null. */
  current: string | null = null
  /** The focused room was not listed when focused: the next `rooms` answer gives its opening. */
  private openingFromNextRooms: string | null = null

  constructor(private readonly host: FocusHost) {}

  /**
   * A room becomes the one being read: its unread count, about to be zeroed, is
   * kept in its view for the `New messages` line until another room is read.
   * Focusing the same room again (React's StrictMode does) keeps what was taken.
   */
  focus(name: string | null): void {
    if (name !== null && name !== this.current) {
      for (const r of this.host.allRooms()) if (r.name !== name) r.setOpening(null)
    }
    this.current = name
    this.openingFromNextRooms = null
    if (name === null) return
    if (this.host.room(name).store.getState().opening === null) {
      const summary = this.host.rooms.getState().find((r) => r.name === name)
      if (summary) this.host.room(name).setOpening({ unread: summary.unread, lastSeq: summary.last_seq })
      else this.openingFromNextRooms = name
    }
    this.host.rooms.setState((list) => roomRead(list, name))
  }

  /** The room being read, as the server counted it before reading zeroes its unread count. */
  takeOpening(infos: readonly RoomInfo[]): void {
    const name = this.openingFromNextRooms
    this.openingFromNextRooms = null
    const info = infos.find((r) => r.name === name)
    if (name === this.current && info) this.host.room(info.name).setOpening({ unread: info.unread, lastSeq: info.last_seq })
  }

  reset(): void {
    this.current = null
    this.openingFromNextRooms = null
  }
}
