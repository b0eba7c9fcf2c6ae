// Edits, deletes and reactions made here and not yet acknowledged (after the
// outbox of messages). Each room's changes go out one at a time in the order
// they were made, once the room is joined on the socket; a change lost with the
// socket is sent again on the next one (every change is idempotent: an edit to
// the same body, a second delete, a reaction already there change nothing), and
// one the server refuses for good is marked failed for the person to retry or
// give up. They are kept per user in storage, like the outbox, so a reload
// while offline sends them too.
import type { Clock, StorageLike } from './env'
import { PushError } from './push'
import { classifyRefusal, retryDelay } from './sendQueue'
import type { Message, MessageChange, PendingChange, User } from './types'

const isChange = (v: unknown): v is PendingChange => {
  if (typeof v !== 'object' || v === null) return false
  const c = v as Record<string, unknown>
  const change = c.change as Record<string, unknown> | null
  return (
    typeof c.id === 'string' && typeof c.room === 'string' && typeof c.seq === 'number' &&
    (c.status === 'sending' || c.status === 'failed') && typeof change === 'object' && change !== null &&
    (change.kind === 'edit' || change.kind === 'delete' || change.kind === 'react')
  )
}

const HUMAN_ERRORS: Record<string, string> = {
  forbidden: 'You may not change this message',
  not_found: 'This message no longer exists',
  invalid_body: 'A message must be 1 to 4,000 characters',
  invalid_emoji: 'Not an emoji the server takes',
  too_many_reactions: 'This message has too many different reactions',
  not_joined: 'Not in this room yet, try again',
}

export function humanChangeError(error: unknown): string {
  if (error instanceof PushError) return HUMAN_ERRORS[error.code] ?? (error.message || 'Could not save the change')
  return 'Could not save the change'
}

/** What the queue needs from the client. */
export interface ChangeQueueHost {
  /** Sends one change; resolves with the message as the server now has it. */
  transmit(change: PendingChange): Promise<Message>
  /** The server applied it: the room takes the message. */
  applied(message: Message): void
  /** The pending changes of `room` changed. */
  changed(room: string): void
  ready(room: string): boolean
  rejoin(room: string): void
}

export class ChangeQueue {
  /** In the order made. */
  private items: PendingChange[] = []
  private readonly inFlight = new Set<string>()
  private pause: unknown = null
  private attempt = 0
  private storageKey: string | null = null

  constructor(
    private readonly storage: StorageLike | null,
    private readonly host: ChangeQueueHost,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  /** Takes over what this user left unacknowledged (an earlier page load). */
  load(user: User): void {
    this.storageKey = `chat.changes.${user.id}`
    const held = new Set(this.items.map((c) => c.id))
    const loaded = this.readStored().filter((c) => !held.has(c.id))
    this.items = [...this.items, ...loaded]
    for (const room of new Set(loaded.map((c) => c.room))) this.host.changed(room)
  }

  rooms(): string[] {
    return [...new Set(this.items.map((c) => c.room))]
  }

  forRoom(room: string): PendingChange[] {
    return this.items.filter((c) => c.room === room)
  }

  add(change: PendingChange): void {
    this.items = [...this.items, change]
    this.persist()
    this.host.changed(change.room)
  }

  /** Sends, per room, the oldest change still 'sending' when none is in flight there. */
  flush(): void {
    if (this.pause !== null) return
    const busy = new Set(this.items.filter((c) => this.inFlight.has(c.id)).map((c) => c.room))
    for (const change of this.items) {
      if (change.status !== 'sending' || busy.has(change.room)) continue
      busy.add(change.room)
      if (!this.host.ready(change.room)) continue
      this.inFlight.add(change.id)
      this.host.transmit(change).then(
        (message) => {
          this.inFlight.delete(change.id)
          this.attempt = 0
          this.host.applied(message)
          this.remove(change.id)
          this.flush()
        },
        (error: unknown) => {
          this.inFlight.delete(change.id)
          this.refused(change, error)
        },
      )
    }
  }

  private refused(change: PendingChange, error: unknown): void {
    const refusal = classifyRefusal(error)
    switch (refusal.kind) {
      case 'resend':
        return
      case 'wait':
        if (this.pause !== null) return
        this.pause = this.clock.setTimeout(() => {
          this.pause = null
          this.flush()
        }, retryDelay(this.attempt++, this.random))
        return
      case 'rejoin':
        return this.host.rejoin(change.room)
      case 'fail':
        this.replace(change.id, { status: 'failed', error: humanChangeError(error) })
        return this.flush()
    }
  }

  retry(id: string): boolean {
    return this.replace(id, { status: 'sending', error: null })
  }

  discard(id: string): void {
    this.remove(id)
  }

  /** The room cannot be joined: its changes will not go out by waiting. */
  failRoom(room: string, error: string): void {
    for (const change of this.items) if (change.room === room && change.status === 'sending') this.replace(change.id, { status: 'failed', error })
  }

  disconnected(): void {
    this.inFlight.clear()
  }

  clear(): void {
    const rooms = new Set(this.items.map((c) => c.room))
    this.items = []
    this.inFlight.clear()
    if (this.pause !== null) this.clock.clearTimeout(this.pause)
    this.pause = null
    this.attempt = 0
    this.storageKey = null
    for (const room of rooms) this.host.changed(room)
  }

  private remove(id: string): void {
    const change = this.items.find((c) => c.id === id)
    if (!change) return
    this.items = this.items.filter((c) => c !== change)
    this.persist()
    this.host.changed(change.room)
  }

  private replace(id: string, patch: Partial<PendingChange>): boolean {
    const change = this.items.find((c) => c.id === id)
    if (!change) return false
    this.items = this.items.map((c) => (c === change ? { ...c, ...patch } : c))
    this.persist()
    this.host.changed(change.room)
    return true
  }

  private readStored(): PendingChange[] {
    if (!this.storage || !this.storageKey) return []
    try {
      const value: unknown = JSON.parse(this.storage.getItem(this.storageKey) ?? '[]')
      return Array.isArray(value) ? value.filter(isChange) : []
    } catch {
      return []
    }
  }

  private persist(): void {
    if (!this.storage || !this.storageKey) return
    try {
      if (this.items.length === 0) this.storage.removeItem(this.storageKey)
      else this.storage.setItem(this.storageKey, JSON.stringify(this.items))
    } catch {
      // Storage full or denied: the queue still works for this page's lifetime.
    }
  }
}

// ---- how a message looks with the changes still on their way -------------------------

/** One reaction of `me` set on or off, in the server's rules (first-added order, users by id). */
export function withReaction(message: Message, emoji: string, active: boolean, me: User): Message {
  const held = message.reactions.find((r) => r.emoji === emoji)
  const mine = held?.users.some((u) => u.id === me.id) ?? false
  if (mine === active) return message
  if (!held) return { ...message, reactions: [...message.reactions, { emoji, users: [me] }] }
  const users = active ? [...held.users, me].sort((a, b) => a.id - b.id) : held.users.filter((u) => u.id !== me.id)
  const reactions = message.reactions
    .map((r) => (r === held ? { emoji, users } : r))
    .filter((r) => r.users.length > 0)
  return { ...message, reactions }
}

function applyChange(message: Message, change: MessageChange, me: User): Message {
  if (message.deleted) return message
  switch (change.kind) {
    case 'edit':
      return change.body === message.body ? message : { ...message, body: change.body, edited_at: message.edited_at ?? message.created_at }
    case 'delete':
      return { ...message, deleted: true, body: '', mentions: [], reactions: [], reply_to: null }
    case 'react':
      return withReaction(message, change.emoji, change.active, me)
  }
}

/** The message as it will be once the changes still being sent are applied (failed ones are not). */
export function withPendingChanges(message: Message, changes: readonly PendingChange[], me: User): Message {
  let shown = message
  for (const change of changes) if (change.status === 'sending') shown = applyChange(shown, change.change, me)
  return shown
}

/** Whether `me` has reacted with `emoji` on the message. */
export const reactedWith = (message: Message, emoji: string, me: User) =>
  message.reactions.some((r) => r.emoji === emoji && r.users.some((u) => u.id === me.id))
