// Where the `New messages` line goes. The client knows how many messages by
// others were unread when the room was opened (the room list's count, taken
// before reading zeroes it) and the newest seq then; the first of them is the
// unread-th newest message by someone else at or below that seq. Messages that
// arrive later have higher seqs, so they never move the line.
import type { Message, RoomOpening } from '../lib'

/**
 * The seq of the first message that was unread at the opening, or null for no
 * line: nothing was unread, the opening is not known yet, the log does not
 * reach the opening's newest seq yet, or the message is older than what is
 * held while older pages remain (it shows once they are loaded).
 */
export function firstUnreadSeq(
  messages: readonly Message[],
  opening: RoomOpening | null,
  selfId: number,
  hasMore: boolean,
): number | null {
  if (!opening || opening.unread <= 0) return null
  const newest = messages.at(-1)
  if (!newest || newest.seq < opening.lastSeq) return null
  let counted = 0
  let oldestCounted: number | null = null
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!
    if (message.seq > opening.lastSeq || message.author.id === selfId) continue
    counted += 1
    oldestCounted = message.seq
    if (counted === opening.unread) return message.seq
  }
  // Fewer held than were unread: with the whole room held, all of them were.
  return hasMore ? null : oldestCounted
}

/** How many stored messages are newer than `seq` (messages ascend by seq). */
export function countNewer(messages: readonly Message[], seq: number): number {
  let count = 0
  for (let i = messages.length - 1; i >= 0 && messages[i]!.seq > seq; i--) count++
  return count
}
