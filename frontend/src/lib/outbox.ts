// Messages written here and not yet acknowledged. Each keeps the client_id it
// was born with, so sending it again after a reconnect, a timeout or a reload
// is safe: the server stores a client_id once and answers `sent` again.
// Sending order and retries are sendQueue.ts's rules.
// Persisted per user, one entry per message, so tabs do not overwrite each
// other's entries and a reload loses nothing.
import type { Clock, StorageLike } from './env'
import { isAttachment } from './protocol'
import { PushError } from './push'
import { classifyRefusal, dueMessages, inWrittenOrder, retryDelay } from './sendQueue'
import type { PendingMessage, User } from './types'

/** Why a body the server would refuse (invalid_body) failed, for people. */
export const INVALID_BODY_ERROR = 'A message must be 1 to 4,000 characters'

const HUMAN_ERRORS: Record<string, string> = {
  rate_limited: 'Too many messages, slow down',
  invalid_body: INVALID_BODY_ERROR,
  not_joined: 'Not in this room yet, try again',
  invalid_attachment: 'A file is no longer on the server, attach it again',
  server_error: 'The server failed, try again',
  timeout: 'No answer from the server',
}

export function humanSendError(error: unknown): string {
  if (error instanceof PushError) return HUMAN_ERRORS[error.code] ?? (error.message || 'Could not send')
  return 'Could not send'
}

/** What the outbox needs from the client. */
export interface OutboxHost {
  /** Sends one message; the promise settles with the server's answer. */
  transmit(message: PendingMessage): Promise<unknown>
  /** The pending list of `room` changed. */
  changed(room: string): void
  /** Whether `room` is joined on the current socket, so a send may go out there. */
  ready(room: string): boolean
  /** The server said the room is not joined on this socket: join it again (then flush). */
  rejoin(room: string): void
}

export class Outbox {
  /** In the order written (sendQueue.inWrittenOrder). */
  private items: PendingMessage[] = []
  /** Sent on the current socket and not answered yet: never sent twice on one socket. */
  private readonly inFlight = new Set<string>()
  private storageKey: string | null = null
  /** Set while sends wait for the rate limit's window (or a hiccup) to pass. */
  private pause: unknown = null
  /** Pauses in a row without a send getting through; grows the next pause. */
  private attempt = 0

  constructor(
    private readonly storage: StorageLike | null,
    private readonly host: OutboxHost,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  /** Takes over what this user left unacknowledged (an earlier page load, another tab). */
  load(user: User): void {
    this.storageKey = `chat.outbox.${user.id}`
    const stored = this.readStored()
    const held = new Set(this.items.map((m) => m.client_id))
    const loaded = Object.values(stored).filter((m) => !held.has(m.client_id))
    this.items = inWrittenOrder([...this.items, ...loaded])
    for (const room of new Set(loaded.map((m) => m.room))) this.host.changed(room)
  }

  forRoom(room: string): PendingMessage[] {
    return this.items.filter((m) => m.room === room)
  }

  rooms(): string[] {
    return [...new Set(this.items.map((m) => m.room))]
  }

  add(message: PendingMessage): void {
    this.items = inWrittenOrder([...this.items, message])
    this.persist(message)
    this.host.changed(message.room)
  }

  has(clientId: string): boolean {
    return this.items.some((m) => m.client_id === clientId)
  }

  get waiting(): boolean {
    return this.pause !== null
  }

  /** Sends what is due (sendQueue.dueMessages), unless sends are paused for the rate limit. */
  flush(): void {
    if (this.pause !== null) return
    for (const message of dueMessages(this.items, this.inFlight, (room) => this.host.ready(room))) {
      this.inFlight.add(message.client_id)
      this.host.transmit(message).then(
        () => {
          this.inFlight.delete(message.client_id)
          this.attempt = 0
          this.acknowledge(message.client_id)
          this.flush()
        },
        (error: unknown) => {
          this.inFlight.delete(message.client_id)
          this.refused(message, error)
        },
      )
    }
  }

  private refused(message: PendingMessage, error: unknown): void {
    const refusal = classifyRefusal(error)
    switch (refusal.kind) {
      case 'resend': // lost with the socket: the next one sends it
        return
      case 'wait':
        return this.waitAndFlush()
      case 'rejoin':
        return this.host.rejoin(message.room)
      case 'fail':
        this.fail(message.client_id, humanSendError(error))
        // What was written after it in the room need not wait for the person.
        return this.flush()
    }
  }

  /** Holds every send back for a growing pause, then sends in written order again. */
  private waitAndFlush(): void {
    if (this.pause !== null) return
    this.pause = this.clock.setTimeout(() => {
      this.pause = null
      this.flush()
    }, retryDelay(this.attempt, this.random))
    this.attempt += 1
  }

  /** The server stored it (a `sent`, or our own message seen in the room). */
  acknowledge(clientId: string): void {
    const message = this.items.find((m) => m.client_id === clientId)
    if (!message) return
    this.items = this.items.filter((m) => m !== message)
    this.unpersist(clientId)
    this.host.changed(message.room)
  }

  fail(clientId: string, error: string): void {
    this.replace(clientId, { status: 'failed', error })
  }

  /** The room cannot be joined: what waits to be sent there will not go out by waiting. */
  failRoom(room: string, error: string): void {
    for (const message of this.items) if (message.room === room && message.status === 'sending') this.fail(message.client_id, error)
  }

  /** Back to 'sending' with the same client_id; the caller flushes. */
  retry(clientId: string): PendingMessage | null {
    return this.replace(clientId, { status: 'sending', error: null })
  }

  /** The socket closed: nothing is in flight any more. */
  disconnected(): void {
    this.inFlight.clear()
  }

  /** Forgets everything in memory (logout); the stored copy stays for that user. */
  clear(): void {
    const rooms = this.rooms()
    this.items = []
    this.inFlight.clear()
    this.storageKey = null
    if (this.pause !== null) this.clock.clearTimeout(this.pause)
    this.pause = null
    this.attempt = 0
    for (const room of rooms) this.host.changed(room)
  }

  private replace(clientId: string, patch: Partial<PendingMessage>): PendingMessage | null {
    const index = this.items.findIndex((m) => m.client_id === clientId)
    if (index < 0) return null
    const next = { ...this.items[index]!, ...patch }
    this.items = this.items.map((m, i) => (i === index ? next : m))
    this.persist(next)
    this.host.changed(next.room)
    return next
  }

  // ---- storage ------------------------------------------------------------------------

  private readStored(): Record<string, PendingMessage> {
    if (!this.storage || !this.storageKey) return {}
    try {
      const value: unknown = JSON.parse(this.storage.getItem(this.storageKey) ?? '{}')
      if (typeof value !== 'object' || value === null) return {}
      const entries = Object.entries(value as Record<string, unknown>).filter(([, m]) => isPending(m))
      return Object.fromEntries(entries) as Record<string, PendingMessage>
    } catch {
      return {}
    }
  }

  private writeStored(entries: Record<string, PendingMessage>): void {
    if (!this.storage || !this.storageKey) return
    try {
      if (Object.keys(entries).length === 0) this.storage.removeItem(this.storageKey)
      else this.storage.setItem(this.storageKey, JSON.stringify(entries))
    } catch {
      // Storage full or denied: the outbox still works for this page's lifetime.
    }
  }

  private persist(message: PendingMessage): void {
    this.writeStored({ ...this.readStored(), [message.client_id]: message })
  }

  private unpersist(clientId: string): void {
    const entries = this.readStored()
    if (!(clientId in entries)) return
    delete entries[clientId]
    this.writeStored(entries)
  }
}

function isPending(v: unknown): v is PendingMessage {
  if (typeof v !== 'object' || v === null) return false
  const m = v as Record<string, unknown>
  return (
    typeof m.client_id === 'string' && typeof m.room === 'string' && typeof m.body === 'string' &&
    typeof m.created_at === 'string' && (m.status === 'sending' || m.status === 'failed') &&
    typeof m.author === 'object' && m.author !== null &&
    (m.attachments === undefined || (Array.isArray(m.attachments) && m.attachments.every(isAttachment)))
  )
}
