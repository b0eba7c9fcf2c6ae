// What the outbox sends next, and what it does with a refusal, as pure
// functions. Messages of one room go out one at a time in the order they were
// written, so the room stores them in that order; a message that waits (for the
// rate limit's window, for a reconnect) holds back the ones written after it in
// its room, and only one that will never succeed by waiting is set aside as
// failed, for the person to retry.
import { PushError } from './push'
import { SEND_RETRY_BASE_MS, SEND_RETRY_CAP_MS } from './timing'
import type { PendingMessage } from './types'

/** Oldest first; messages written in the same millisecond keep the order they were added in. */
export function inWrittenOrder(messages: readonly PendingMessage[]): PendingMessage[] {
  return [...messages].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
}

/**
 * The messages to transmit now: per room, the oldest one still 'sending', unless
 * a message of that room is in flight already or the room is not ready (not
 * joined on the current socket). `messages` is in written order.
 */
export function dueMessages(
  messages: readonly PendingMessage[], inFlight: ReadonlySet<string>, ready: (room: string) => boolean,
): PendingMessage[] {
  const busy = new Set(messages.filter((m) => inFlight.has(m.client_id)).map((m) => m.room))
  const due: PendingMessage[] = []
  for (const message of messages) {
    if (message.status !== 'sending' || busy.has(message.room)) continue
    busy.add(message.room)
    if (ready(message.room)) due.push(message)
  }
  return due
}

/** What a refused or unanswered send means for the message. */
export type Refusal =
  /** Lost with the socket: the next socket sends it again. */
  | { kind: 'resend' }
  /** Will succeed by waiting (rate limit, a server or network hiccup): send again after a pause. */
  | { kind: 'wait' }
  /** The room is not joined on this socket: join it again, then send. */
  | { kind: 'rejoin' }
  /** Will not succeed by waiting: Failed, with Retry. */
  | { kind: 'fail'; code: string }

export function classifyRefusal(error: unknown): Refusal {
  if (!(error instanceof PushError)) return { kind: 'fail', code: 'unknown' }
  switch (error.code) {
    case 'disconnected':
      return { kind: 'resend' }
    // A send is idempotent by client_id, so one whose answer was lost (timeout,
    // server_error after a database stall) may be sent again safely.
    case 'rate_limited':
    case 'timeout':
    case 'server_error':
      return { kind: 'wait' }
    case 'not_joined':
      return { kind: 'rejoin' }
    default:
      return { kind: 'fail', code: error.code }
  }
}

/**
 * The pause before the `attempt`-th retry (0 first): doubling from the base up
 * to the cap, the upper half of it random, so several tabs of one person do not
 * all retry at the same instant.
 */
export function retryDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(SEND_RETRY_CAP_MS, SEND_RETRY_BASE_MS * 2 ** attempt)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
