// The wire frames (shared/protocol.md, version 1 and the parts of 2 this app uses) declared once for the browser,
// and a validator for every frame the server may send. A frame that does not
// match is logged and dropped: a bad frame must never crash the app.
import type { Attachment, Message, Reaction, ReplyTo, RoomKind, User } from './types'

/** ROOMINFO: v1's fields, and v2's (optional here, so a v1 server's answer still parses). */
export interface RoomInfo {
  name: string
  last_seq: number
  member: boolean
  unread: number
  online: number
  kind?: RoomKind
  topic?: string
  owner?: User | null
  /** Every member of a private or dm room; null for public. */
  members?: User[] | null
  mentions?: number
  rev?: number
}

// ---- client to server -------------------------------------------------------

export type ClientFrame =
  | { type: 'ping'; ref?: string }
  | { type: 'rooms'; ref?: string }
  | { type: 'join'; room: string; since?: number; since_rev?: number; ref?: string }
  | { type: 'leave'; room: string; forget?: boolean; ref?: string }
  | { type: 'send'; room: string; body: string; client_id: string; reply_to?: number; attachments?: string[]; ref?: string }
  | { type: 'history'; room: string; before: number; limit?: number; ref?: string }
  | { type: 'history'; room: string; after: number; limit?: number; ref?: string }
  | { type: 'search'; query: string; room?: string; before?: number; limit?: number; ref?: string }
  | { type: 'edit'; room: string; seq: number; body: string; ref?: string }
  | { type: 'delete'; room: string; seq: number; ref?: string }
  | { type: 'react'; room: string; seq: number; emoji: string; active: boolean; ref?: string }
  | { type: 'changes'; room: string; since_rev: number; ref?: string }
  | { type: 'typing'; room: string; active: boolean }
  | { type: 'read'; room: string; seq: number }
  | { type: 'create'; room: string; kind: 'public' | 'private'; topic?: string; ref?: string }
  | { type: 'dm'; users: string[]; ref?: string }
  | { type: 'invite'; room: string; user: string; ref?: string }
  | { type: 'remove'; room: string; user: string; ref?: string }
  | { type: 'topic'; room: string; topic: string; ref?: string }
  | { type: 'push_subscribe'; endpoint: string; keys: { p256dh: string; auth: string }; ref?: string }
  | { type: 'push_unsubscribe'; endpoint: string; ref?: string }
  | { type: 'notify_settings'; ref?: string }
  | { type: 'notify'; room: string; level: NotifyLevel; ref?: string }

/** A client frame the server answers, matched to its reply by `ref`. */
export type RequestFrame = Exclude<ClientFrame, { type: 'typing' | 'read' }>

// ---- server to client -------------------------------------------------------

export interface PongFrame { type: 'pong'; ref?: string }
export interface RoomsFrame { type: 'rooms'; ref?: string; rooms: RoomInfo[] }
export interface JoinedFrame {
  type: 'joined'; ref?: string; room: string; presence: User[]; messages: Message[]; has_more: boolean
  /** The room's revision (v2). */
  rev?: number
}
export interface LeftFrame { type: 'left'; ref?: string; room: string }
export interface SentFrame { type: 'sent'; ref?: string; message: Message }
export interface HistoryFrame {
  type: 'history'; ref?: string; room: string; messages: Message[]; has_more: boolean
}
export interface MessageFrame { type: 'message'; room: string; message: Message }
/** Unasked (v2): a message of a joined room was edited, deleted or its reactions changed. */
export interface UpdateFrame { type: 'update'; room: string; message: Message }
/** Answers to edit, delete and react: the message as it is now. */
export interface ChangedFrame { type: 'edited' | 'deleted' | 'reacted'; ref?: string; message: Message }
export interface ChangesFrame {
  type: 'changes'; ref?: string; room: string; messages: Message[]; has_more: boolean; rev: number
}
export interface TypingFrame { type: 'typing'; room: string; user: User; active: boolean }
export interface PresenceFrame { type: 'presence'; room: string; joins: User[]; leaves: User[] }
/** Unasked (v2): a room entered this user's list, changed, or was left for good (`member` false). */
export interface RoomFrame { type: 'room'; ref?: string; room: RoomInfo }
/** Unasked (v2): this user lost a private room (removed, or left it for good). */
export interface RoomRemovedFrame { type: 'room_removed'; room: string }
export interface InvitedFrame { type: 'invited'; ref?: string; room: string; user: User }
export interface RemovedFrame { type: 'removed'; ref?: string; room: string; user: User }
export interface PushSubscribedFrame { type: 'push_subscribed' | 'push_unsubscribed'; ref?: string }
/** This user's notification level of every room they belong to (this server's frame, docs/protocol.md). */
export interface NotifySettingsFrame { type: 'notify_settings'; ref?: string; rooms: Record<string, NotifyLevel> }
/** One room's level, set here (with `ref`) or, unasked, on another socket of this user. */
export interface NotifyFrame { type: 'notify'; ref?: string; room: string; level: NotifyLevel }
/** Answer to `search` (v2): matches newest first, from every room this user may read. */
export interface SearchFrame { type: 'search'; ref?: string; messages: Message[]; has_more: boolean }
export interface ErrorFrame { type: 'error'; ref?: string; code: string; detail: string }

export type ServerFrame =
  | PongFrame | RoomsFrame | JoinedFrame | LeftFrame | SentFrame | HistoryFrame
  | MessageFrame | TypingFrame | PresenceFrame | RoomFrame | ErrorFrame
  | RoomRemovedFrame | InvitedFrame | RemovedFrame | UpdateFrame | ChangedFrame | ChangesFrame
  | PushSubscribedFrame | NotifySettingsFrame | NotifyFrame | SearchFrame

/** When a room's new messages notify this user: every one by someone else, those that mention them, none. */
export type NotifyLevel = 'all' | 'mentions' | 'nothing'
export const NOTIFY_LEVELS: readonly NotifyLevel[] = ['all', 'mentions', 'nothing']
const isLevel = (v: unknown): v is NotifyLevel => (NOTIFY_LEVELS as readonly unknown[]).includes(v)

/** A room name the server accepts. */
export const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/

/** The longest topic the server keeps. */
export const MAX_TOPIC_LENGTH = 250

/** Users in a dm besides oneself: 1 to 7. */
export const MAX_DM_OTHERS = 7

/** Different emoji one message may carry. */
export const MAX_REACTIONS = 20

/** What the server takes as an emoji: 1 to 32 characters (code points), no white space. */
export function isValidEmoji(text: string): boolean {
  const length = Array.from(text).length
  return length >= 1 && length <= 32 && !/\s/u.test(text)
}

/** Uploads one message may carry. */
export const MAX_ATTACHMENTS = 10

/** The server's limit on a body after trimming, counted in code points as the server counts. */
export const MAX_BODY_LENGTH = 4000

// What the server trims from both ends of a body (backend/chat/frames/limits.py):
// JavaScript's white space, plus what Python also counts as space (U+001C to
// U+001F, U+0085) and the invisible zero-width spaces U+180E, U+200B, U+2060.
// eslint-disable-next-line no-control-regex -- the server trims these control characters too
const BODY_EDGES = /^[\s\u001c-\u001f\u0085\u180e\u200b\u2060]+|[\s\u001c-\u001f\u0085\u180e\u200b\u2060]+$/g

/** A body trimmed as the server trims it before storing (and before counting). */
export function trimBody(text: string): string {
  return text.replace(BODY_EDGES, '')
}

/** A body's length as the server measures it: code points, not UTF-16 units. */
export function bodyLength(text: string): number {
  return Array.from(text).length
}

// ---- validators ---------------------------------------------------------------

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)
const isStr = (v: unknown): v is string => typeof v === 'string'
const isBool = (v: unknown): v is boolean => typeof v === 'boolean'
const optRef = (o: Obj) => o.ref === undefined || isStr(o.ref)
const optional = (v: unknown, check: (x: unknown) => boolean) => v === undefined || check(v)
const listOf = <T>(v: unknown, item: (x: unknown) => x is T): v is T[] =>
  Array.isArray(v) && v.every(item)

export function isUser(v: unknown): v is User {
  return isObj(v) && isInt(v.id) && isStr(v.username)
}

const isReplyTo = (v: unknown): v is ReplyTo => isObj(v) && isInt(v.seq) && isUser(v.author) && isStr(v.excerpt)
const isReaction = (v: unknown): v is Reaction => isObj(v) && isStr(v.emoji) && listOf(v.users, isUser)
const isImage = (v: unknown) =>
  v === null || (isObj(v) && isInt(v.width) && isInt(v.height) && isStr(v.thumbnail_url))

export function isAttachment(v: unknown): v is Attachment {
  return (
    isObj(v) && isStr(v.id) && isStr(v.name) && isInt(v.size) && isStr(v.content_type) && isStr(v.url) &&
    isImage(v.image)
  )
}

/** v1's fields, and v2's where present (a frame validated here is given v2's defaults by withDefaults). */
export function isMessage(v: unknown): v is Message {
  return (
    isObj(v) && isInt(v.id) && isStr(v.room) && isInt(v.seq) && isUser(v.author) &&
    isStr(v.body) && isStr(v.created_at) && isStr(v.client_id) &&
    optional(v.rev, isInt) && optional(v.reply_to, (r) => r === null || isReplyTo(r)) &&
    optional(v.mentions, (m) => listOf(m, isInt)) && optional(v.edited_at, (e) => e === null || isStr(e)) &&
    optional(v.deleted, isBool) && optional(v.reactions, (r) => listOf(r, isReaction)) &&
    optional(v.attachments, (a) => listOf(a, isAttachment))
  )
}

/** A message as the app holds it: what a v1 server leaves out gets v2's defaults. */
function withDefaults(m: Message): Message {
  if (m.rev !== undefined && m.reply_to !== undefined && m.mentions !== undefined &&
      m.edited_at !== undefined && m.deleted !== undefined && m.reactions !== undefined &&
      m.attachments !== undefined) return m
  return {
    ...m, rev: m.rev ?? 0, reply_to: m.reply_to ?? null, mentions: m.mentions ?? [],
    edited_at: m.edited_at ?? null, deleted: m.deleted ?? false, reactions: m.reactions ?? [],
    attachments: m.attachments ?? [],
  }
}

const ROOM_KINDS: readonly unknown[] = ['public', 'private', 'dm']

function isRoomInfo(v: unknown): v is RoomInfo {
  return (
    isObj(v) && isStr(v.name) && isInt(v.last_seq) && isBool(v.member) &&
    isInt(v.unread) && isInt(v.online) &&
    optional(v.kind, (k) => ROOM_KINDS.includes(k)) && optional(v.topic, isStr) &&
    optional(v.owner, (o) => o === null || isUser(o)) &&
    optional(v.members, (m) => m === null || listOf(m, isUser)) && optional(v.mentions, isInt) &&
    optional(v.rev, isInt)
  )
}

const validators: Record<ServerFrame['type'], (o: Obj) => boolean> = {
  pong: (o) => optRef(o),
  rooms: (o) => optRef(o) && listOf(o.rooms, isRoomInfo),
  joined: (o) =>
    optRef(o) && isStr(o.room) && listOf(o.presence, isUser) &&
    listOf(o.messages, isMessage) && isBool(o.has_more) && optional(o.rev, isInt),
  left: (o) => optRef(o) && isStr(o.room),
  sent: (o) => optRef(o) && isMessage(o.message),
  history: (o) =>
    optRef(o) && isStr(o.room) && listOf(o.messages, isMessage) && isBool(o.has_more),
  message: (o) => isStr(o.room) && isMessage(o.message),
  update: (o) => isStr(o.room) && isMessage(o.message),
  edited: (o) => optRef(o) && isMessage(o.message),
  deleted: (o) => optRef(o) && isMessage(o.message),
  reacted: (o) => optRef(o) && isMessage(o.message),
  changes: (o) =>
    optRef(o) && isStr(o.room) && listOf(o.messages, isMessage) && isBool(o.has_more) && isInt(o.rev),
  typing: (o) => isStr(o.room) && isUser(o.user) && isBool(o.active),
  presence: (o) => isStr(o.room) && listOf(o.joins, isUser) && listOf(o.leaves, isUser),
  room: (o) => optRef(o) && isRoomInfo(o.room),
  room_removed: (o) => isStr(o.room),
  invited: (o) => optRef(o) && isStr(o.room) && isUser(o.user),
  removed: (o) => optRef(o) && isStr(o.room) && isUser(o.user),
  search: (o) => optRef(o) && listOf(o.messages, isMessage) && isBool(o.has_more),
  error: (o) => optRef(o) && isStr(o.code) && isStr(o.detail),
  push_subscribed: (o) => optRef(o),
  push_unsubscribed: (o) => optRef(o),
  notify_settings: (o) => optRef(o) && isObj(o.rooms) && Object.values(o.rooms).every(isLevel),
  notify: (o) => optRef(o) && isStr(o.room) && isLevel(o.level),
}

/** The typed frame, or null (logged) when the text is not a frame we know. */
export function parseServerFrame(text: unknown): ServerFrame | null {
  if (typeof text !== 'string') {
    console.warn('chat: ignoring a non-text socket frame')
    return null
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    console.warn('chat: ignoring a frame that is not JSON', text.slice(0, 200))
    return null
  }
  if (!isObj(value) || !isStr(value.type) || !Object.hasOwn(validators, value.type)) {
    console.warn('chat: ignoring a frame of unknown type', text.slice(0, 200))
    return null
  }
  if (!validators[value.type as ServerFrame['type']](value)) {
    console.warn(`chat: ignoring a malformed "${value.type}" frame`, text.slice(0, 200))
    return null
  }
  const frame = value as unknown as ServerFrame
  if ('message' in frame) return { ...frame, message: withDefaults(frame.message) }
  if ('messages' in frame) return { ...frame, messages: frame.messages.map(withDefaults) }
  return frame
}
