import { describe, expect, it } from 'vitest'
import type { Message, User } from '../lib'
import { V2_FIELDS } from '../lib/testing/fakes'
import { countNewer, firstUnreadSeq } from './unread'

const me: User = { id: 1, username: 'me' }
const bob: User = { id: 2, username: 'bob' }

/** A log of seqs from..to; `mine` are written by me, the rest by bob. */
function log(from: number, to: number, mine: number[] = []): Message[] {
  return Array.from({ length: to - from + 1 }, (_, i) => {
    const seq = from + i
    return {
      id: seq, room: 'r', seq, author: mine.includes(seq) ? me : bob, body: `m${seq}`,
      created_at: '2026-11-25T10:00:00Z', client_id: `c${seq}`, ...V2_FIELDS,
    }
  })
}

describe('the first unread message', () => {
  it('is the unread-th newest message by others at the opening', () => {
    expect(firstUnreadSeq(log(1, 10), { unread: 3, lastSeq: 10 }, me.id, false)).toBe(8)
  })

  it('skips my own messages, which are never unread', () => {
    expect(firstUnreadSeq(log(1, 10, [9, 10]), { unread: 3, lastSeq: 10 }, me.id, false)).toBe(6)
  })

  it('does not move when messages arrive after the opening', () => {
    expect(firstUnreadSeq(log(1, 15), { unread: 3, lastSeq: 10 }, me.id, false)).toBe(8)
  })

  it('draws no line when nothing was unread or the opening is unknown', () => {
    expect(firstUnreadSeq(log(1, 10), { unread: 0, lastSeq: 10 }, me.id, false)).toBeNull()
    expect(firstUnreadSeq(log(1, 10), null, me.id, false)).toBeNull()
  })

  it('waits until the log reaches the opening’s newest message', () => {
    expect(firstUnreadSeq([], { unread: 3, lastSeq: 10 }, me.id, false)).toBeNull()
    expect(firstUnreadSeq(log(1, 8), { unread: 3, lastSeq: 10 }, me.id, false)).toBeNull()
  })

  it('waits for older pages when the first unread is not held yet', () => {
    expect(firstUnreadSeq(log(51, 100), { unread: 70, lastSeq: 100 }, me.id, true)).toBeNull()
    expect(firstUnreadSeq(log(1, 100), { unread: 70, lastSeq: 100 }, me.id, false)).toBe(31)
  })

  it('puts the line above the oldest message by others when more were counted than the room holds', () => {
    expect(firstUnreadSeq(log(1, 10, [1]), { unread: 50, lastSeq: 10 }, me.id, false)).toBe(2)
  })
})

describe('messages newer than the reader has seen', () => {
  it('counts the stored messages above a seq', () => {
    expect(countNewer(log(1, 10), 7)).toBe(3)
    expect(countNewer(log(1, 10), 10)).toBe(0)
    expect(countNewer(log(4, 6), 0)).toBe(3)
    expect(countNewer([], 3)).toBe(0)
  })
})
