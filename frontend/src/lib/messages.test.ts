import { describe, expect, it } from 'vitest'
import { findGaps, highestSeq, lowestSeq, mergeMessages } from './messages'
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
