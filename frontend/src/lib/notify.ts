// Whether a new message should notify this person, and what the notification
// says: pure functions, shared by the page's desktop notifications and (by the
// same rules, written again in plain JavaScript) the service worker's pushes.
// The levels are the server's (docs/protocol.md, "Notifications (version 2)"),
// so every device of a person follows the same choice.
import type { NotifyLevel } from './protocol'
import { STALE_MESSAGE_MS } from './timing'
import type { Message, RoomKind, RoomSummary, User } from './types'

export type { NotifyLevel } from './protocol'
export { NOTIFY_LEVELS } from './protocol'
export { STALE_MESSAGE_MS } from './timing'

/** Levels the server has given, by room; a room missing here has its kind's default. */
export type NotifyLevels = Readonly<Record<string, NotifyLevel>>

/** The server's default: every message of a dm, mentions elsewhere. */
export function defaultLevel(kind: RoomKind): NotifyLevel {
  return kind === 'dm' ? 'all' : 'mentions'
}

export function levelOf(levels: NotifyLevels, room: string, kind: RoomKind): NotifyLevel {
  return Object.hasOwn(levels, room) ? (levels[room] as NotifyLevel) : defaultLevel(kind)
}

export interface NotifyCase {
  message: Message
  /** The person reading, by id. */
  me: number
  level: NotifyLevel
  /** The tab cannot be seen (document.visibilityState 'hidden'): what arrives goes unseen. */
  hidden: boolean
  /** Now, epoch ms. */
  now: number
}

/**
 * A desktop notification only while the tab is hidden: a visible tab shows the
 * message in its log or counts it in the room list and the title, and that is
 * enough, the open room included. Hidden, the open room notifies like any other.
 */
export function shouldNotify({ message, me, level, hidden, now }: NotifyCase): boolean {
  if (!hidden || message.author.id === me || message.deleted) return false
  if (now - Date.parse(message.created_at) > STALE_MESSAGE_MS) return false
  if (level === 'all') return true
  if (level === 'mentions') return message.mentions.includes(me)
  return false
}

/** At most this many characters of the body in a notification: the start says what it is about. */
export const NOTIFICATION_BODY_LENGTH = 120

/** The notification's words: who wrote where (a dm by who is in it), and the start of the body. */
export function notificationText(message: Message, room: RoomSummary | undefined, me: User): { title: string; body: string } {
  const author = message.author.username
  let title = `${author} in #${message.room}`
  if ((room?.kind ?? (message.room.startsWith('dm-') ? 'dm' : 'public')) === 'dm') {
    const others = (room?.members ?? []).filter((m) => m.id !== me.id).map((m) => m.username)
    // A dm of two is the author; a group dm names the others too.
    title = others.length > 1 ? `${author} in ${others.join(', ')}` : author
  }
  const chars = Array.from(message.body.replace(/\s+/g, ' ').trim())
  const body = chars.length > NOTIFICATION_BODY_LENGTH ? `${chars.slice(0, NOTIFICATION_BODY_LENGTH - 1).join('')}…` : chars.join('')
  return { title, body: body === '' ? 'Sent an attachment' : body }
}

/** One notification per room: a newer message replaces the one before (also across the page and the service worker). */
export const notificationTag = (room: string) => `room:${room}`
