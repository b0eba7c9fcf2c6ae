// The browser app's data layer, as React sees it. Everything under src/lib is
// framework-free TypeScript; components only read these stores and call these
// commands. This file is the seam between the data layer and the UI.

import type { ChatEnv } from './env'
import type { NotifyLevels } from './notify'
import type { NotifyLevel } from './protocol'
import type { MessageSearch } from './search'
import type { UploadQueue } from './uploads'

export interface User {
  id: number
  username: string
  /** Only on the session's own user, when the server says so: staff count as owner of every room. */
  is_staff?: boolean
}

export type RoomKind = 'public' | 'private' | 'dm'

/** The message a reply answers, as it was when the reply was stored. */
export interface ReplyTo {
  seq: number
  author: User
  /** The first 100 characters of that message's body then. */
  excerpt: string
}

export interface Reaction {
  emoji: string
  /** Who reacted with it, in the order the server gives (by id). */
  users: User[]
}

/** A file uploaded with POST /api/uploads; a message refers to it by id. */
export interface Attachment {
  id: string
  name: string
  /** Bytes. */
  size: number
  content_type: string
  url: string
  /** Set for images the server could read: their size and a thumbnail at most 400 px on its longer side. */
  image: { width: number; height: number; thumbnail_url: string } | null
}

/** A stored message, exactly as the server sends it (a v1 server's gets v2's defaults). */
export interface Message {
  id: number
  room: string
  seq: number
  author: User
  body: string
  created_at: string
  client_id: string
  /** The room revision of its last change; 0 from a server without revisions. */
  rev: number
  reply_to: ReplyTo | null
  /** Ids of the users it mentions, ascending. */
  mentions: number[]
  edited_at: string | null
  /** A tombstone: body '', no mentions, reactions or reply. */
  deleted: boolean
  /** In the order each emoji was first added. */
  reactions: Reaction[]
  /** Files it carries, in the order sent; [] when none or deleted. Optional only so messages
   * made before uploads existed (tests, a stored outbox) still type; parsed frames always have it. */
  attachments?: Attachment[]
}

/** A change to a stored message made here: an edit, a delete, a reaction on or off. */
export type MessageChange =
  | { kind: 'edit'; body: string }
  | { kind: 'delete' }
  | { kind: 'react'; emoji: string; active: boolean }

/** A change not yet acknowledged: sent in order once the room is joined, or failed. */
export interface PendingChange {
  /** Distinct per change, for Retry and Discard. */
  id: string
  room: string
  seq: number
  change: MessageChange
  status: 'sending' | 'failed'
  error: string | null
}

/** A message written here and not yet acknowledged by the server. */
export interface PendingMessage {
  client_id: string
  room: string
  body: string
  author: User
  /** When it was written, ISO 8601. */
  created_at: string
  status: 'sending' | 'failed'
  /** Why it failed, for people (e.g. "Too many messages, slow down"). */
  error: string | null
  /** The message it answers, when it is a reply. */
  reply_to?: ReplyTo | null
  /** Files already on the server (uploaded before sending), sent by id. */
  attachments?: Attachment[]
}

/** A zustand-like external store: React reads it with useSyncExternalStore. */
export interface Store<T> {
  getState(): T
  subscribe(listener: () => void): () => void
}

export interface SessionState {
  status: 'unknown' | 'anonymous' | 'authenticated'
  user: User | null
}

export interface ConnectionState {
  status: 'idle' | 'connecting' | 'connected' | 'reconnecting'
  /** While reconnecting: when the next attempt starts (epoch ms), else null. */
  retryAt: number | null
}

export interface RoomSummary {
  name: string
  last_seq: number
  member: boolean
  /** Messages by others above the read marker; 0 for the room being read. */
  unread: number
  online: number
  kind: RoomKind
  /** 0 to 250 characters, '' when none. */
  topic: string
  /** The creator of a room made by `create`; null for dm rooms and public rooms made by `join`. */
  owner: User | null
  /** Every member of a private or dm room; null for public rooms. */
  members: User[] | null
  /** Unread messages that mention this user. */
  mentions: number
}

/** Something the person should hear about once (e.g. they lost a room). */
export interface Notice {
  /** Distinct per notice, so the same text twice is heard twice. */
  id: number
  text: string
  /** The room it is about. */
  room: string
}

/** A room as it was when opened for reading: what the `New messages` line is drawn from. */
export interface RoomOpening {
  /** Messages by others above the read marker then. */
  unread: number
  /** The room's newest seq then. */
  lastSeq: number
}

export interface JumpTarget {
  seq: number
  id: number
}

export interface RoomView {
  name: string
  /** 'joining' until the first `joined` after a (re)connect. */
  status: 'joining' | 'joined' | 'error'
  /** Stored messages, ascending by seq, no duplicates. */
  messages: Message[]
  /** Written here, not yet acknowledged, in the order written. */
  pending: PendingMessage[]
  /** Edits, deletes and reactions made here, not yet acknowledged, in the order made. */
  changes: PendingChange[]
  hasMore: boolean
  loadingOlder: boolean
  /** The log is a slice that does not reach the newest message (opened at a search result). */
  hasNewer: boolean
  loadingNewer: boolean
  /** The message the log was last asked to show (`jumpTo`); a new `id` for every ask. */
  target: JumpTarget | null
  /** A failure to show (e.g. invalid room name), else null. */
  error: string | null
  /** Set while the room is the one being read, once its unread count is known; null otherwise. */
  opening: RoomOpening | null
}

export class ApiError extends Error {
  readonly fields: Record<string, string[]>
  readonly status: number
  constructor(message: string, status: number, fields: Record<string, string[]> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.fields = fields
  }
}

export interface ChatClient {
  readonly session: Store<SessionState>
  readonly connection: Store<ConnectionState>
  /** Every room the server knows, from the `rooms` frame, with live unread counts. */
  readonly rooms: Store<RoomSummary[]>
  /** One room's log; the same object for the same name. */
  room(name: string): Store<RoomView>
  /** The latest notice for the person (a room they lost), or null. */
  readonly notice: Store<Notice | null>
  /** Users present in the room, each once, sorted by username. */
  presence(name: string): Store<User[]>
  /** Other users typing in the room now (indicators expire after 10 s). */
  typing(name: string): Store<User[]>
  /** The notification level the server keeps per room; a room not in it has its kind's default (lib/notify levelOf). */
  readonly notifyLevels: Store<NotifyLevels>

  /** Reads GET /api/session, then connects the socket when logged in. */
  start(): Promise<void>
  /** Throws ApiError with the server's text (and fields for sign-up). */
  login(username: string, password: string): Promise<void>
  signup(username: string, password: string): Promise<void>
  logout(): Promise<void>

  /** Joins the room (creating it) and keeps it joined across reconnects. */
  open(room: string): void
  /** Leaves the room for good (every tab of this person): not a member any more. */
  leave(room: string): Promise<void>
  /** Makes a room (`create`) and joins it; resolves once joined. Rejects with the server's error (room_exists, …). */
  create(room: string, kind: 'public' | 'private', topic: string): Promise<void>
  /** Opens (or finds again) the dm room with these usernames; resolves with its name once joined. */
  directMessage(usernames: string[]): Promise<string>
  invite(room: string, username: string): Promise<void>
  remove(room: string, username: string): Promise<void>
  setTopic(room: string, topic: string): Promise<void>
  /** Marks the room as the one being read: its unread count stays 0, the count before is its view's `opening`. */
  focus(room: string | null): void
  /** Sends a message; `replyTo` makes it a reply to that stored message. With
   * attachments (already uploaded) the body may be empty. */
  send(room: string, body: string, replyTo?: Message, attachments?: readonly Attachment[]): void
  /** The files waiting to go with the room's next message (the same queue for the same name). */
  uploads(room: string): UploadQueue
  /** An attachment's url as the page may load it: the server's paths are on its own origin. */
  fileUrl(url: string): string
  retry(room: string, clientId: string): void
  /** Edits, deletes or reacts to a stored message: sent now, or once the room is joined again. */
  change(room: string, seq: number, change: MessageChange): void
  /** Sends a failed change again. */
  retryChange(room: string, id: string): void
  /** Gives a failed change up. */
  discardChange(room: string, id: string): void
  /** Loads older pages until the message `seq` is held; resolves whether it is. */
  reveal(room: string, seq: number): Promise<boolean>
  /** Fetches the page of messages before the oldest one held. */
  loadOlder(room: string): Promise<void>
  /**
   * Shows the message `seq` of the room (joining it first): held, it becomes the
   * view's `target`; otherwise the log becomes the slice around it, detached
   * from the live end (`hasNewer`). Resolves whether the message is held.
   */
  jumpTo(room: string, seq: number): Promise<boolean>
  /** Fetches the page after the newest message of a detached log; the last one makes it live again. */
  loadNewer(room: string): Promise<void>
  /** Makes a detached log live again: the newest page, and what came meanwhile. */
  jumpToLatest(room: string): Promise<void>
  /** Message search over every room this user may read (the `search` frame), paged. */
  readonly search: MessageSearch
  /** Moves the read marker forward to seq. */
  markRead(room: string, seq: number): void
  /** The composer's text changed (drives the typing throttle). */
  composerInput(room: string, text: string): void
  /** The composer lost focus, or the room was left. */
  composerIdle(room: string): void
  reconnectNow(): void
  /** Keeps the room's notification level on the server (for every device of this person). */
  setNotifyLevel(room: string, level: NotifyLevel): Promise<void>
  /** Gives the server this browser's Web Push subscription (push_subscribe). */
  pushSubscribe(endpoint: string, keys: { p256dh: string; auth: string }): Promise<void>
  /** Takes it back (push_unsubscribe): before logging out, or when notifications are turned off. */
  pushUnsubscribe(endpoint: string): Promise<void>
  /** Calls `listener` with each message of a joined room as it arrives live (a `message` frame); returns the unsubscribe. */
  onLiveMessage(listener: (message: Message) => void): () => void
  /** Tears everything down (tests, hot reload). */
  dispose(): void
}

export interface ChatClientOptions {
  /** Origin of the Django server, '' for the page's own origin. */
  httpBase: string
  /** ws(s)://host/ws/ of the Daphne server. */
  socketUrl: string
  /** Fakes for tests (WebSocket, fetch, storage, clock, …); defaults are the browser's. */
  env?: Partial<ChatEnv>
}
