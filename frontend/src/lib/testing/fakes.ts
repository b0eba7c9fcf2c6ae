// Test doubles shaped like the real things: a WebSocket the test drives from
// the server side, an in-memory chat server that speaks the wire contract, and
// a Map-backed localStorage. Used by the *.test.ts files only.
import type { ChatEnv, EventTargetLike, StorageLike, WebSocketFactory, WebSocketLike } from '../env'
import type { ClientFrame, ServerFrame } from '../protocol'
import type { Message, User } from '../types'

/** Lets promise callbacks queued so far (and those they queue) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve()
}

export class FakeSocket implements WebSocketLike {
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onclose: ((event: { code: number; reason?: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  /** Frames the client sent, parsed. */
  readonly sent: ClientFrame[] = []
  closedByClient: number | null = null

  constructor(readonly url: string, private readonly onSend: (ws: FakeSocket, frame: ClientFrame) => void = () => {}) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    const frame = JSON.parse(data) as ClientFrame
    this.sent.push(frame)
    this.onSend(this, frame)
  }

  close(code = 1000): void {
    this.closedByClient = code
    this.readyState = 3
  }

  // ---- the server's side ----
  accept(): void {
    this.readyState = 1
    this.onopen?.({})
  }

  push(frame: ServerFrame | Record<string, unknown>): void {
    this.pushRaw(JSON.stringify(frame))
  }

  pushRaw(data: unknown): void {
    this.onmessage?.({ data })
  }

  drop(code: number): void {
    this.readyState = 3
    this.onclose?.({ code })
  }

  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type)
  }
}

/** A WebSocket constructor that records every socket it made. */
export function fakeSockets(onSend?: (ws: FakeSocket, frame: ClientFrame) => void) {
  const sockets: FakeSocket[] = []
  const WebSocket = class extends FakeSocket {
    constructor(url: string) {
      super(url, onSend)
      sockets.push(this)
    }
  } as unknown as WebSocketFactory
  return { sockets, WebSocket, last: () => sockets[sockets.length - 1]! }
}

export class MemoryStorage implements StorageLike {
  readonly data = new Map<string, string>()
  getItem = (key: string) => this.data.get(key) ?? null
  setItem = (key: string, value: string) => void this.data.set(key, value)
  removeItem = (key: string) => void this.data.delete(key)
}

export class FakeEvents implements EventTargetLike {
  visibilityState = 'visible'
  private readonly listeners = new Map<string, Set<() => void>>()
  addEventListener(type: string, listener: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set())
    this.listeners.get(type)!.add(listener)
  }
  removeEventListener(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener)
  }
  fire(type: string): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener()
  }
}

/** What version 2 adds to a message, as a new one has it: spread into messages built by hand. */
export const V2_FIELDS = {
  rev: 0, reply_to: null, mentions: [] as number[], edited_at: null, deleted: false, reactions: [], attachments: [],
} satisfies Partial<Message>

export const alice: User = { id: 1, username: 'alice' }
export const bob: User = { id: 2, username: 'bob' }
export const carol: User = { id: 3, username: 'carol' }

/**
 * An in-memory chat server speaking the wire contract to FakeSockets. Every
 * socket is alice's; the test accepts sockets. Knobs hold answers, drop live
 * frames or refuse sends.
 */
export class FakeServer {
  readonly log = new Map<string, Message[]>()
  private readonly byClientId = new Map<string, Message>()
  private readonly joined = new Map<FakeSocket, Set<string>>()
  private nextId = 1
  /** While false, requests get no answer (to test timeouts). */
  answering = true
  /** While true, live `message` frames are not delivered (a lossy channel layer). */
  dropLive = false
  /** While true, `send` frames get no answer (the rest are answered). */
  holdSends = false
  /** Rooms left for good (`leave` with `forget`): not a member in `rooms` any more. */
  readonly forgotten = new Set<string>()
  /** While true, `rooms` frames get no answer (the rest are answered). */
  holdRooms = false
  /** Rooms this user may not read: `join` answers `forbidden`. */
  readonly forbidden = new Set<string>()
  /** Users by username, for `dm` (an unknown one is `not_found`). */
  readonly users = new Map<string, User>()
  /** Errors to answer the next `send` frames with, in order. */
  sendErrors: string[] = []
  /** The newest join page size and the since-join cap (the protocol's 50 and 500). */
  joinPage = 50
  sinceCap = 500
  /** Speak version 2's revisions (rev, update, changes, join with since_rev); off: a v1 server. */
  revisions = false
  /** While true, live `update` frames are not delivered (a lossy channel layer). */
  dropUpdates = false
  /** Each room's current revision. */
  readonly revs = new Map<string, number>()
  /** This user's notification levels kept by the server (`notify_settings`, `notify`). */
  readonly notifyLevels = new Map<string, string>()
  readonly fakes = fakeSockets((ws, frame) => void Promise.resolve().then(() => this.handle(ws, frame)))

  constructor(readonly user: User = alice) {}

  get sockets(): FakeSocket[] {
    return this.fakes.sockets
  }

  get socket(): FakeSocket {
    return this.fakes.last()
  }

  /** Accepts every socket still connecting. */
  acceptAll(): void {
    for (const ws of this.sockets) if (ws.readyState === 0) ws.accept()
  }

  /** Stores a message and sends it live to every socket joined to the room. */
  store(room: string, author: User, body: string, clientId = `c${this.nextId}`): Message {
    const existing = this.byClientId.get(`${author.id}:${clientId}`)
    if (existing) return existing
    const log = this.log.get(room) ?? []
    this.log.set(room, log)
    const message: Message = {
      id: this.nextId++, room, seq: log.length + 1, author, body, client_id: clientId,
      created_at: new Date(Date.UTC(2026, 10, 21, 10, 0, log.length)).toISOString(),
      ...V2_FIELDS, rev: this.nextRev(room),
    }
    log.push(message)
    this.byClientId.set(`${author.id}:${clientId}`, message)
    if (!this.dropLive) {
      for (const [ws, rooms] of this.joined) if (rooms.has(room) && ws.readyState === 1) ws.push({ type: 'message', room, message })
    }
    return message
  }

  private nextRev(room: string): number {
    const rev = (this.revs.get(room) ?? 0) + 1
    this.revs.set(room, rev)
    return rev
  }

  /** Changes a stored message (taking the room's next rev) and sends `update` to the room. */
  change(room: string, seq: number, patch: (m: Message) => Partial<Message>): Message {
    const log = this.log.get(room)!
    const index = log.findIndex((m) => m.seq === seq)
    const message = { ...log[index]!, ...patch(log[index]!), rev: this.nextRev(room) }
    log[index] = message
    if (!this.dropUpdates) {
      for (const [ws, rooms] of this.joined) if (rooms.has(room) && ws.readyState === 1) ws.push({ type: 'update', room, message })
    }
    return message
  }

  /** A reaction of `user` on or off, as the server keeps them (first-added order). */
  react(room: string, seq: number, user: User, emoji: string, active: boolean): Message {
    return this.change(room, seq, (m) => {
      const held = m.reactions.find((r) => r.emoji === emoji)
      const others = (held?.users ?? []).filter((u) => u.id !== user.id)
      const users = active ? [...others, user].sort((a, b) => a.id - b.id) : others
      const reactions = held
        ? m.reactions.map((r) => (r.emoji === emoji ? { emoji, users } : r)).filter((r) => r.users.length > 0)
        : [...m.reactions, { emoji, users }]
      return { reactions }
    })
  }

  /** What `changes` answers: every message whose rev is above since_rev, by rev, capped. */
  changesSince(room: string, sinceRev: number) {
    const changed = (this.log.get(room) ?? []).filter((m) => m.rev > sinceRev).sort((a, b) => a.rev - b.rev)
    return { messages: changed.slice(0, this.sinceCap), has_more: changed.length > this.sinceCap, rev: this.revs.get(room) ?? 0 }
  }

  private handle(ws: FakeSocket, frame: ClientFrame): void {
    if (ws.readyState !== 1 || !this.answering) return
    const ref = 'ref' in frame ? { ref: frame.ref } : {}
    const rooms = this.joined.get(ws) ?? new Set<string>()
    this.joined.set(ws, rooms)
    switch (frame.type) {
      case 'ping':
        return ws.push({ type: 'pong', ...ref })
      case 'rooms':
        if (this.holdRooms) return
        return ws.push({
          type: 'rooms', ...ref,
          rooms: [...this.log.entries()].map(([name, log]) => ({
            name, last_seq: log.length, unread: 0, online: 1,
            member: !this.forgotten.has(name) && log.some((m) => m.author.id === this.user.id),
          })),
        })
      case 'join': {
        if (this.forbidden.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'forbidden', detail: 'forbidden' })
        rooms.add(frame.room)
        const log = this.log.get(frame.room) ?? []
        this.log.set(frame.room, log)
        if (this.revisions && frame.since_rev !== undefined) {
          return ws.push({ type: 'joined', ...ref, room: frame.room, presence: [this.user], ...this.changesSince(frame.room, frame.since_rev) })
        }
        const rev = this.revisions ? { rev: this.revs.get(frame.room) ?? 0 } : {}
        const newer = frame.since === undefined ? log.slice(-this.joinPage) : log.filter((m) => m.seq > frame.since!)
        const messages = frame.since === undefined ? newer : newer.slice(0, this.sinceCap)
        const has_more = frame.since === undefined ? log.length > this.joinPage : newer.length > this.sinceCap
        return ws.push({ type: 'joined', ...ref, room: frame.room, presence: [this.user], messages, has_more, ...rev })
      }
      case 'changes':
        return ws.push({ type: 'changes', ...ref, room: frame.room, ...this.changesSince(frame.room, frame.since_rev) })
      case 'edit': {
        if (!rooms.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'not_joined', detail: 'join first' })
        const message = this.change(frame.room, frame.seq, () => ({ body: frame.body.trim(), edited_at: '2026-11-21T11:00:00.000000Z' }))
        return ws.push({ type: 'edited', ...ref, message })
      }
      case 'delete': {
        if (!rooms.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'not_joined', detail: 'join first' })
        const message = this.change(frame.room, frame.seq, () => ({ body: '', deleted: true, reactions: [], mentions: [], reply_to: null }))
        return ws.push({ type: 'deleted', ...ref, message })
      }
      case 'react': {
        if (!rooms.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'not_joined', detail: 'join first' })
        const message = this.react(frame.room, frame.seq, this.user, frame.emoji, frame.active)
        return ws.push({ type: 'reacted', ...ref, message })
      }
      case 'history': {
        const limit = frame.limit ?? 50
        if ('after' in frame) {
          const newer = (this.log.get(frame.room) ?? []).filter((m) => m.seq > frame.after)
          return ws.push({ type: 'history', ...ref, room: frame.room, messages: newer.slice(0, limit), has_more: newer.length > limit })
        }
        const older = (this.log.get(frame.room) ?? []).filter((m) => m.seq < frame.before)
        return ws.push({
          type: 'history', ...ref, room: frame.room, messages: older.slice(-limit), has_more: older.length > limit,
        })
      }
      case 'search': {
        // Every word of the query in the body, newest first by id: enough of the server for the client's tests.
        const words = frame.query.toLowerCase().split(/\s+/)
        const found = [...this.log.values()].flat()
          .filter((m) => !m.deleted && words.every((w) => m.body.toLowerCase().includes(w)))
          .filter((m) => frame.before === undefined || m.id < frame.before)
          .sort((a, b) => b.id - a.id)
        const limit = frame.limit ?? 20
        return ws.push({ type: 'search', ...ref, messages: found.slice(0, limit), has_more: found.length > limit })
      }
      case 'leave':
        rooms.delete(frame.room)
        if (frame.forget) this.forgotten.add(frame.room)
        return ws.push({ type: 'left', ...ref, room: frame.room })
      case 'send': {
        if (this.holdSends) return
        const code = this.sendErrors.shift()
        if (code) return ws.push({ type: 'error', ...ref, code, detail: `refused: ${code}` })
        const message = this.store(frame.room, this.user, frame.body.trim(), frame.client_id)
        return ws.push({ type: 'sent', ...ref, message })
      }
      case 'dm': {
        const others = frame.users.map((name) => this.users.get(name))
        const unknown = frame.users.find((_, i) => !others[i])
        if (unknown) return ws.push({ type: 'error', ...ref, code: 'not_found', detail: `no user ${unknown}` })
        const ids = [this.user.id, ...others.map((u) => u!.id)].sort((a, b) => a - b)
        return this.handle(ws, { type: 'join', room: `dm-${ids.join('-')}`, ...ref })
      }
      case 'notify_settings':
        return ws.push({ type: 'notify_settings', ...ref, rooms: Object.fromEntries(this.notifyLevels) })
      case 'notify':
        if (this.forbidden.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'forbidden', detail: 'forbidden' })
        this.notifyLevels.set(frame.room, frame.level)
        for (const other of this.sockets) {
          if (other !== ws && other.readyState === 1) other.push({ type: 'notify', room: frame.room, level: frame.level })
        }
        return ws.push({ type: 'notify', ...ref, room: frame.room, level: frame.level })
      case 'create':
        if (this.log.has(frame.room)) return ws.push({ type: 'error', ...ref, code: 'room_exists', detail: 'taken' })
        return this.handle(ws, { type: 'join', room: frame.room, ...ref })
      default:
        return
    }
  }

  /** Every frame of a type the client sent, over all its sockets. */
  sent<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.sockets.flatMap((ws) => ws.framesOf(type))
  }

  env(extra: Partial<ChatEnv> = {}): Partial<ChatEnv> {
    let id = 0
    return {
      WebSocket: this.fakes.WebSocket,
      random: () => 0.5,
      randomId: () => `cid-${++id}`,
      cookies: () => 'csrftoken=tok',
      fetch: fakeFetch({ 'GET /api/session': { status: 200, body: { user: this.user } } }),
      storage: new MemoryStorage(),
      window: new FakeEvents(),
      document: null,
      ...extra,
    }
  }
}

export interface FakeResponse {
  status: number
  body?: unknown
}

/** A fetch answering "METHOD /path" from a table; records the calls. */
export function fakeFetch(table: Record<string, FakeResponse>, calls: { url: string; init: RequestInit }[] = []) {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input)
    calls.push({ url, init })
    const path = new URL(url, 'http://x').pathname
    const answer = table[`${init.method ?? 'GET'} ${path}`]
    if (!answer) throw new TypeError('Failed to fetch')
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status })
  }) as typeof fetch
}
