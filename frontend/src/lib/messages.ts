// A room's log as pure functions: ascending by seq, each seq once (its latest
// revision), and the holes in it. Unchanged logs come back as the same array so stores stay quiet.
import type { Message } from './types'

/**
 * `incoming` merged into `held`: a seq not held goes in, one held is replaced
 * when the incoming copy is of a later revision (an edit, a delete, a reaction).
 */
export function mergeMessages(held: Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return held
  const last = held.length > 0 ? held[held.length - 1]!.seq : -Infinity
  // The common case, a live message or a catch-up page after the newest: append.
  if (incoming.every((m, i) => m.seq > last && (i === 0 || m.seq > incoming[i - 1]!.seq))) {
    return [...held, ...incoming]
  }
  const bySeq = new Map(held.map((m) => [m.seq, m]))
  let added = false
  let replaced = false
  for (const message of incoming) {
    const existing = bySeq.get(message.seq)
    if (!existing) {
      bySeq.set(message.seq, message)
      added = true
    } else if (message.rev > existing.rev) {
      // Replaced in place: the map keeps its order.
      bySeq.set(message.seq, message)
      replaced = true
    }
  }
  if (!added && !replaced) return held
  const merged = [...bySeq.values()]
  return added ? merged.sort((a, b) => a.seq - b.seq) : merged
}

export function highestSeq(messages: readonly Message[]): number | null {
  return messages.length > 0 ? messages[messages.length - 1]!.seq : null
}

export function lowestSeq(messages: readonly Message[]): number | null {
  return messages.length > 0 ? messages[0]!.seq : null
}

export interface Gap {
  /** First missing seq. */
  from: number
  /** Last missing seq. */
  to: number
}

/** The runs of seqs missing between the lowest and the highest held. */
export function findGaps(messages: readonly Message[]): Gap[] {
  const gaps: Gap[] = []
  for (let i = 1; i < messages.length; i++) {
    const before = messages[i - 1]!.seq
    const after = messages[i]!.seq
    if (after > before + 1) gaps.push({ from: before + 1, to: after - 1 })
  }
  return gaps
}

/** Where the log stands, as far as its holes go. */
export interface LogEnds {
  messages: readonly Message[]
  /** Older pages remain on the server. */
  hasMore: boolean
  /** The log is a slice short of the live end. */
  hasNewer: boolean
}

/**
 * The holes in the log; the one below it when nothing older is said to
 * exist; and the one above it up to the newest seq the server has named.
 */
export function holesToFill({ messages, hasMore, hasNewer }: LogEnds, serverLast: number): Gap[] {
  const lowest = lowestSeq(messages)
  const highest = highestSeq(messages) ?? (hasMore ? null : 0)
  const leading = !hasMore && lowest !== null && lowest > 1 ? [{ from: 1, to: lowest - 1 }] : []
  // A slice short of the end has no hole above it: the newer messages come by paging forward.
  const trailing = highest !== null && serverLast > highest && !hasNewer ? [{ from: highest + 1, to: serverLast }] : []
  return [...leading, ...findGaps(messages), ...trailing]
}

/** Whether a message arriving live skips seqs past the newest held (`joined`: the log is on the socket). */
export function skipsAhead({ messages, hasMore }: Pick<LogEnds, 'messages' | 'hasMore'>, joined: boolean, seq: number): boolean {
  // An empty log with nothing older held every message there was: the next one is seq 1.
  const top = highestSeq(messages) ?? (joined && !hasMore ? 0 : null)
  return top !== null && seq > top + 1
}

/** `incoming` without the messages older than the oldest held while older pages remain. */
export function notOlderThanHeld({ messages: held, hasMore }: Pick<LogEnds, 'messages' | 'hasMore'>, incoming: readonly Message[]): readonly Message[] {
  const oldest = lowestSeq(held)
  if (oldest === null || !hasMore || incoming.every((m) => m.seq >= oldest)) return incoming
  return incoming.filter((m) => m.seq >= oldest)
}
