// A room's log may be a slice of its history that does not reach the newest
// message: opened at a search result, it holds the messages around that one.
// While detached, newer messages (live frames, a catch-up after reconnecting)
// are kept aside, never appended after a hole, and joined up with the slice
// once paging forward reaches the end. Pure functions over ascending logs.
import { highestSeq, lowestSeq, mergeMessages } from './messages'
import type { Message } from './types'

export interface Slice {
  /** The messages shown: ascending, without holes the server knows of. */
  messages: Message[]
  /** Newer messages kept aside while the slice does not reach the end. */
  aside: Message[]
}

/**
 * The slice around a message: the page up to it (`history` before seq + 1) and
 * the page after it (`history` after seq). Messages already held inside the
 * pages' span are kept when they are of a later revision; those above it go
 * aside unless the page after reached the end (`reachesEnd`), when they are
 * the live end itself and follow on.
 */
export function sliceAround(held: readonly Message[], older: readonly Message[], newer: readonly Message[], reachesEnd: boolean): Slice {
  const page = mergeMessages([...older], newer)
  const lo = lowestSeq(page)
  const hi = highestSeq(page)
  if (lo === null || hi === null) return { messages: [...held], aside: [] }
  const inside = held.filter((m) => m.seq >= lo && m.seq <= hi)
  const above = held.filter((m) => m.seq > hi)
  const messages = mergeMessages(page, inside)
  return reachesEnd ? { messages: mergeMessages(messages, above), aside: [] } : { messages, aside: above }
}

/**
 * Messages that arrive while the slice is detached: those above its newest
 * go aside (merged, each seq once at its latest revision); the rest belong
 * to the slice as before.
 */
export function routeIncoming(slice: Slice, incoming: readonly Message[]): { within: readonly Message[]; aside: Message[] } {
  const top = highestSeq(slice.messages)
  if (top === null) return { within: incoming, aside: slice.aside }
  const above = incoming.filter((m) => m.seq > top)
  if (above.length === 0) return { within: incoming, aside: slice.aside }
  return { within: incoming.filter((m) => m.seq <= top), aside: mergeMessages(slice.aside, above) }
}

/**
 * A page forward (`history` after the newest held) went in. When it was the
 * last (`has_more` false) the slice reaches the end: what was kept aside
 * joins it and the log is live again (`attached`).
 */
export function pageForward(slice: Slice, page: readonly Message[], hasMore: boolean): Slice & { attached: boolean } {
  const messages = mergeMessages(slice.messages, page)
  if (hasMore) return { messages, aside: slice.aside, attached: false }
  // One set aside below the slice (an old message edited) would sit above a hole: its page brings it.
  const lo = lowestSeq(messages) ?? -Infinity
  return { messages: mergeMessages(messages, slice.aside.filter((m) => m.seq >= lo)), aside: [], attached: true }
}

/**
 * Back to the live end: the newest page (`history` before the newest seq
 * known + 1) and whatever was kept aside from its first seq on.
 */
export function sliceAtEnd(aside: readonly Message[], newest: readonly Message[]): Message[] {
  const lo = lowestSeq(newest)
  if (lo === null) return [...aside]
  return mergeMessages([...newest], aside.filter((m) => m.seq >= lo))
}

/** The newest seq known anywhere: the slice, what is aside, the server's word. */
export function newestKnown(slice: Slice, serverLast: number): number {
  return Math.max(serverLast, highestSeq(slice.messages) ?? 0, highestSeq(slice.aside) ?? 0)
}
