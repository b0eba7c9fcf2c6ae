import { describe, expect, it } from 'vitest'
import { findGaps, highestSeq, holesToFill, lowestSeq, mergeMessages, notOlderThanHeld, skipsAhead } from './messages'
import { V2_FIELDS } from './testing/fakes'
import type { Message } from './types'

const m = (seq: number, body = `m${seq}`): Message => ({
  id: 100 + seq, room: 'r', seq, author: { id: 1, username: 'a' }, body, created_at: '', client_id: `c${seq}`,
  ...V2_FIELDS,
})

describe('mergeMessages', () => {
  it('keeps ascending seq order and drops a seq already held', () => {
    const held = [m(2), m(3)]
    const merged = mergeMessages(held, [m(5), m(1), m(3, 'again'), m(4)])
    expect(merged.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5])
    expect(merged[2]!.body).toBe('m3')
  })

  it('returns the same array when nothing is new (stores stay quiet)', () => {
    const held = [m(1), m(2)]
    expect(mergeMessages(held, [m(2), m(1)])).toBe(held)
    expect(mergeMessages(held, [])).toBe(held)
  })

  it('appends a page after the newest', () => {
    expect(mergeMessages([m(1)], [m(2), m(3)]).map((x) => x.seq)).toEqual([1, 2, 3])
    expect(mergeMessages([m(1)], [m(3), m(3)]).map((x) => x.seq)).toEqual([1, 3])
  })

  it('knows the lowest and highest seq', () => {
    expect(highestSeq([])).toBeNull()
    expect(lowestSeq([m(4), m(9)])).toBe(4)
    expect(highestSeq([m(4), m(9)])).toBe(9)
  })
})

describe('findGaps', () => {
  it('lists each missing run between held messages', () => {
    expect(findGaps([m(1), m(2), m(5), m(6), m(8)])).toEqual([{ from: 3, to: 4 }, { from: 7, to: 7 }])
    expect(findGaps([m(3), m(4)])).toEqual([])
    expect(findGaps([])).toEqual([])
  })
})

describe('holesToFill', () => {
  const log = (messages: Message[], hasMore = false, hasNewer = false) => ({ messages, hasMore, hasNewer })

  it('the holes inside, the one below when nothing older remains, the one above up to the server\'s newest', () => {
    expect(holesToFill(log([m(3), m(5)]), 7)).toEqual([{ from: 1, to: 2 }, { from: 4, to: 4 }, { from: 6, to: 7 }])
  })

  it('no hole below while older pages remain, none above a slice short of the end', () => {
    expect(holesToFill(log([m(3), m(5)], true, true), 7)).toEqual([{ from: 4, to: 4 }])
  })

  it('an empty log with nothing older misses everything up to the server\'s newest; with older pages, nothing is known', () => {
    expect(holesToFill(log([]), 2)).toEqual([{ from: 1, to: 2 }])
    expect(holesToFill(log([], true), 2)).toEqual([])
  })
})

describe('skipsAhead', () => {
  it('a seq past the newest held plus one skips; the next one does not', () => {
    expect(skipsAhead({ messages: [m(1), m(2)], hasMore: false }, true, 3)).toBe(false)
    expect(skipsAhead({ messages: [m(1), m(2)], hasMore: false }, true, 4)).toBe(true)
  })

  it('an empty joined log with nothing older expects seq 1; unjoined or with older pages it cannot tell', () => {
    expect(skipsAhead({ messages: [], hasMore: false }, true, 1)).toBe(false)
    expect(skipsAhead({ messages: [], hasMore: false }, true, 2)).toBe(true)
    expect(skipsAhead({ messages: [], hasMore: false }, false, 2)).toBe(false)
    expect(skipsAhead({ messages: [], hasMore: true }, true, 2)).toBe(false)
  })
})

describe('notOlderThanHeld', () => {
  it('leaves out messages older than the oldest held while older pages remain', () => {
    const incoming = [m(2), m(6)]
    expect(notOlderThanHeld({ messages: [m(5)], hasMore: true }, incoming).map((x) => x.seq)).toEqual([6])
    expect(notOlderThanHeld({ messages: [m(5)], hasMore: false }, incoming)).toBe(incoming)
    expect(notOlderThanHeld({ messages: [], hasMore: true }, incoming)).toBe(incoming)
  })
})
