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
