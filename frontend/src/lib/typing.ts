// Typing indicators, both ways.
//
// Outbound (after Zulip's typing_status.ts): a state machine given a clock and
// a sender. While the text changes it says `active: true` at most once every
// TYPING_THROTTLE_MS; after TYPING_IDLE_MS without a change, on send, on blur or
// on leaving the room it says `active: false` — but only if it said true.
//
// Inbound: others' indicators as pure functions over a list with expiry times,
// under a thin wrapper that owns the one timer for the next expiry.
import type { Clock } from './env'
import { TYPING_EXPIRY_MS, TYPING_IDLE_MS, TYPING_THROTTLE_MS } from './timing'
import type { User } from './types'

// ---- outbound -------------------------------------------------------------------

export type TypingSender = (room: string, active: boolean) => void

export class TypingStatus {
  /** The room we last said `active: true` for, while that still holds. */
  private room: string | null = null
  private nextSendAt = 0
  private idleTimer: unknown = null

  constructor(private readonly clock: Clock, private readonly sender: TypingSender) {}

  /** The composer's text in `room` is now `text`. */
  update(room: string, text: string): void {
    if (this.room !== null && this.room !== room) this.stop()
    if (text.trim() === '') {
      this.stop()
      return
    }
    const now = this.clock.now()
    if (this.room === null || now >= this.nextSendAt) {
      this.room = room
      this.nextSendAt = now + TYPING_THROTTLE_MS
      this.sender(room, true)
    }
    this.restartIdleTimer()
  }

  /** Stopped typing (sent, blurred, left, idle): `active: false` if we said true. */
  stop(room?: string): void {
    if (this.room === null || (room !== undefined && room !== this.room)) return
    const was = this.room
    this.room = null
    this.nextSendAt = 0
    this.clearIdleTimer()
    this.sender(was, false)
  }

  get activeRoom(): string | null {
    return this.room
  }

  private restartIdleTimer(): void {
    this.clearIdleTimer()
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = null
      this.stop()
    }, TYPING_IDLE_MS)
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer)
    this.idleTimer = null
  }
}

// ---- inbound: pure -------------------------------------------------------------

export interface Typist {
  user: User
  expiresAt: number
}

export function typistStarted(list: Typist[], user: User, now: number): Typist[] {
  return [...list.filter((t) => t.user.id !== user.id), { user, expiresAt: now + TYPING_EXPIRY_MS }]
}

export function typistStopped(list: Typist[], userId: number): Typist[] {
  return list.some((t) => t.user.id === userId) ? list.filter((t) => t.user.id !== userId) : list
}

export function typistsAt(list: Typist[], now: number): Typist[] {
  return list.some((t) => t.expiresAt <= now) ? list.filter((t) => t.expiresAt > now) : list
}

// ---- inbound: the wrapper --------------------------------------------------------

/** Others typing in one room; `onChange` gets the users, sorted by username. */
export class TypingIndicators {
  private list: Typist[] = []
  private timer: unknown = null

  constructor(
    private readonly clock: Clock,
    private readonly selfId: () => number | null,
    private readonly onChange: (users: User[]) => void,
  ) {}

  typing(user: User, active: boolean): void {
    if (user.id === this.selfId()) return
    this.set(active ? typistStarted(this.list, user, this.clock.now()) : typistStopped(this.list, user.id))
  }

  /** They sent a message or left the room: they are not typing any more. */
  clear(userId: number): void {
    this.set(typistStopped(this.list, userId))
  }

  reset(): void {
    this.set([])
  }

  private set(next: Typist[]): void {
    next = typistsAt(next, this.clock.now())
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
    const first = Math.min(...next.map((t) => t.expiresAt))
    if (next.length > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null
        this.set(this.list)
      }, Math.max(0, first - this.clock.now()))
    }
    if (next === this.list) return
    this.list = next
    this.onChange(next.map((t) => t.user).sort((a, b) => a.username.localeCompare(b.username)))
  }
}
