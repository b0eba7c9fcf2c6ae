// Which rooms the client keeps joined on its socket, across reconnects, and
// which it must not join again because this user left them for good.
import { ROOM_NAME } from './protocol'
import type { Room } from './room'

export interface JoinedRoomsHost {
  room(name: string): Room
  connected(): boolean
  /** The room was left for good (here, on another tab, or taken away): empty what is kept of it. */
  forgotten(name: string, reason: string): void
}

export class JoinedRooms {
  /** Rooms kept joined across reconnects. */
  readonly opened = new Set<string>()
  /** Rooms left for good here: a `rooms` answer asked before the leave must not join them again. */
  readonly forgotten = new Set<string>()
  /** Rooms that entered the list by an unasked `room` frame: their counts are asked again once joined. */
  readonly announced = new Set<string>()

  constructor(private readonly host: JoinedRoomsHost) {}

  open(name: string): void {
    if (!ROOM_NAME.test(name)) {
      this.host.room(name).store.setState((v) => ({
        ...v, status: 'error', error: 'A room name is 1 to 64 of a-z, 0-9, - and _, starting with a letter or digit',
      }))
      return
    }
    // A room whose join failed (no answer) is joined again when opened again.
    if (this.opened.has(name) && this.host.room(name).store.getState().status !== 'error') return
    this.opened.add(name)
    if (this.host.connected()) void this.host.room(name).join()
  }

  /** Opened by the person: a room left for good earlier is joined again. */
  reopen(name: string): void {
    this.forgotten.delete(name)
    this.open(name)
  }

  /** The server said the room is not joined on this socket: join it again, if it is still kept. */
  rejoin(name: string): void {
    if (this.opened.has(name)) void this.host.room(name).join()
  }

  /** A new socket: every room kept joins again. */
  joinAll(): void {
    for (const name of this.opened) void this.host.room(name).join()
  }

  /** Not to be joined again: left for good, or a leave for good on its way. */
  stopKeeping(name: string): void {
    this.forgotten.add(name)
    this.opened.delete(name)
  }

  forget(name: string, reason = 'You left this room.'): void {
    this.stopKeeping(name)
    this.announced.delete(name)
    this.host.forgotten(name, reason)
  }

  clear(): void {
    this.opened.clear()
    this.forgotten.clear()
    this.announced.clear()
  }
}
