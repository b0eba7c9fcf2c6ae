// Pure view helpers: text and grouping decisions the components show. No React,
// no DOM, so each one is unit-tested with plain values and fixed clocks.
import { ROOM_NAME, type Message, type PendingMessage, type User } from '../lib'
import { dayOf } from './days'

/** Messages by one author closer together than this share one header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000

/** Lowercases and trims what a person typed as a room name. */
export function normalizeRoomName(input: string): string {
  return input.trim().toLowerCase()
}

/** Why a (normalized) room name cannot be used, for people; null when it can. */
export function roomNameProblem(name: string): string | null {
  if (name === '') return 'Enter a room name.'
  if (name.length > 64) return 'Room names are at most 64 characters.'
  if (!/^[a-z0-9]/.test(name)) return 'Room names start with a letter or a digit.'
  if (!ROOM_NAME.test(name)) {
    return 'Use only letters, digits, "-" and "_" (no spaces).'
  }
  return null
}

/** What the Typing status says about the people typing now. */
export function typingText(typists: readonly User[]): string {
  const [first, second] = typists
  if (!first) return ''
  if (!second) return `${first.username} is typing…`
  if (typists.length === 2) return `${first.username} and ${second.username} are typing…`
  return 'Several people are typing…'
}

/** Whole seconds left until `retryAt`, never negative. */
export function secondsUntil(retryAt: number, now: number): number {
  return Math.max(0, Math.ceil((retryAt - now) / 1000))
}

/** What the Connection status says; '' while connected. */
export function connectionText(
  status: 'idle' | 'connecting' | 'connected' | 'reconnecting',
  retryAt: number | null,
  now: number,
  wasConnected: boolean,
): string {
  if (status === 'connected' || status === 'idle') return ''
  if (status === 'connecting' && !wasConnected) return 'Connecting…'
  if (retryAt === null) return 'Reconnecting…'
  const seconds = secondsUntil(retryAt, now)
  return seconds > 0 ? `Reconnecting… in ${seconds} s` : 'Reconnecting…'
}

function pad(n: number): string {
  return n.toString().padStart(2, '0')
}

/** "09:05" in the viewer's time zone. */
export function formatClock(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`
}

const fullDate = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
})

/** The full date and time, for the tooltip of every time shown. */
export function formatFullDate(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return fullDate.format(date)
}

interface RowPlace {
  key: string
  /** Same author, a few minutes after the row before, on the same day: no header of its own. */
  continues: boolean
  /** The day number (days.ts) the message was written on, in the reader's time zone. */
  day: number
  /** The first row of its day: a day separator goes above it. */
  startsDay: boolean
}

/** One row of the log: a stored message or one still on its way. */
export type LogEntry =
  | (RowPlace & { kind: 'stored'; message: Message })
  | (RowPlace & { kind: 'pending'; message: PendingMessage })

interface Groupable {
  author: User
  created_at: string
}

/** Whether `next` continues the group `previous` started (same author, a few minutes apart). */
export function continuesGroup(previous: Groupable | undefined, next: Groupable): boolean {
  if (!previous || previous.author.id !== next.author.id) return false
  const gap = Date.parse(next.created_at) - Date.parse(previous.created_at)
  return Number.isFinite(gap) && gap >= 0 && gap < GROUP_WINDOW_MS
}

export interface LogOptions {
  /** The oldest message held is the room's first (no older pages remain). */
  fromStart?: boolean
  /** The reader's own when not given. */
  timeZone?: string
}

/** The stored part of the log, built once per change of the stored messages. */
export interface StoredLog {
  entries: LogEntry[]
  clientIds: Set<string>
}

function placer(previousEntry: LogEntry | undefined, { fromStart = true, timeZone }: LogOptions) {
  let previous: Groupable | undefined = previousEntry?.message
  let previousDay = previousEntry?.day ?? NaN
  return (key: string, message: Groupable): RowPlace => {
    const day = dayOf(message.created_at, timeZone)
    const known = !Number.isNaN(day)
    const startsDay = previous === undefined ? fromStart && known : day !== previousDay && known
    const continues = !startsDay && continuesGroup(previous, message)
    previous = message
    previousDay = day
    return { key, continues, day, startsDay }
  }
}

/**
 * Stored messages as rows, each marked whether it continues the previous
 * author's group and whether it starts a day. The oldest message held starts
 * its day only when it is the room's first (`fromStart`): while older pages
 * remain its day may have begun earlier, and a separator that moved up with
 * every page loaded would shift what the reader is looking at.
 */
export function storedLog(messages: readonly Message[], options: LogOptions = {}): StoredLog {
  const place = placer(undefined, options)
  const clientIds = new Set<string>()
  const entries: LogEntry[] = messages.map((message) => {
    clientIds.add(message.client_id)
    return { kind: 'stored', message, ...place(`m${message.id}`, message) }
  })
  return { entries, clientIds }
}

/**
 * The stored rows, then the pending ones. A pending message whose client_id
 * is already stored is left out, so an acknowledged message never shows twice.
 * Cheap on its own: a message being sent does not rebuild the stored rows.
 */
export function withPending(stored: StoredLog, pending: readonly PendingMessage[], options: LogOptions = {}): LogEntry[] {
  const waiting = pending.filter((message) => !stored.clientIds.has(message.client_id))
  if (waiting.length === 0) return stored.entries
  const place = placer(stored.entries.at(-1), options)
  return [
    ...stored.entries,
    ...waiting.map((message): LogEntry => ({ kind: 'pending', message, ...place(`p${message.client_id}`, message) })),
  ]
}

/** The whole log: stored rows then pending ones (storedLog and withPending in one). */
export function buildLog(messages: readonly Message[], pending: readonly PendingMessage[], options: LogOptions = {}): LogEntry[] {
  return withPending(storedLog(messages, options), pending, options)
}

/** The tab's title: unread total first so it shows in the tab strip; `label` is `#room`, or a dm's people. */
export function documentTitle(label: string | null, unreadElsewhere: number): string {
  const base = label ? `${label} · Chat` : 'Chat'
  return unreadElsewhere > 0 ? `(${unreadElsewhere}) ${base}` : base
}
