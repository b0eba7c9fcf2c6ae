// The server's read marker per room: the highest seq the UI has shown, sent as
// `read` once the room is joined on the socket, and only ever forward.
import type { ClientFrame } from './protocol'

export interface ReadMarkersHost {
  /** Whether the room is joined on the current socket (a `read` before the join is refused). */
  joined(room: string): boolean
  /** Sends a frame without waiting for an answer; false when the socket is down. */
  send(frame: ClientFrame): boolean
}

export class ReadMarkers {
  private readonly sent = new Map<string, number>()
  /** The highest seq the UI has shown per room; sent as `read` once joined. */
  private readonly wanted = new Map<string, number>()

  constructor(private readonly host: ReadMarkersHost) {}

  /** The UI has shown the room up to `seq`. */
  shown(room: string, seq: number): void {
    this.wanted.set(room, Math.max(seq, this.wanted.get(room) ?? 0))
    this.send(room)
  }

  /** Moves the server's read marker forward to what the UI has shown, never back. */
  send(room: string): void {
    const seq = this.wanted.get(room) ?? 0
    if (seq <= (this.sent.get(room) ?? 0) || !this.host.joined(room)) return
    if (this.host.send({ type: 'read', room, seq })) this.sent.set(room, seq)
  }

  forget(room: string): void {
    this.sent.delete(room)
    this.wanted.delete(room)
  }

  clear(): void {
    this.sent.clear()
    this.wanted.clear()
  }
}
