import { describe, expect, it } from 'vitest'
import { newestKnown, pageForward, routeIncoming, sliceAround, sliceAtEnd } from './slice'
import { V2_FIELDS } from './testing/fakes'
import type { Message } from './types'

const m = (seq: number, rev = seq, body = `m${seq}`): Message => ({
  id: 100 + seq, room: 'r', seq, author: { id: 1, username: 'a' }, body, created_at: '', client_id: `c${seq}`,
  ...V2_FIELDS, rev,
})
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => m(from + i))
const seqs = (messages: readonly Message[]) => messages.map((x) => x.seq)

describe('sliceAround', () => {
  it('holds the pages around the target and keeps the newer messages held aside', () => {
    const held = range(90, 100)
    const slice = sliceAround(held, range(20, 30), range(31, 40), false)
    expect(seqs(slice.messages)).toEqual(seqs(range(20, 40)))
    expect(seqs(slice.aside)).toEqual(seqs(held))
  })

  it('joins the held live end on when the page after the target reached it', () => {
    const slice = sliceAround(range(95, 100), range(80, 90), range(91, 97), true)
    expect(seqs(slice.messages)).toEqual(seqs(range(80, 100)))
    expect(slice.aside).toEqual([])
  })

  it('keeps a held copy of a later revision (an edit seen live) over the page', () => {
    const edited = m(25, 500, 'edited')
    const slice = sliceAround([edited, ...range(90, 91)], range(20, 30), range(31, 32), false)
    expect(slice.messages.find((x) => x.seq === 25)!.body).toBe('edited')
    expect(seqs(slice.aside)).toEqual([90, 91])
  })

  it('drops held messages below the pages: they would leave a hole above them', () => {
    const slice = sliceAround([...range(1, 5), ...range(90, 91)], range(20, 30), [], true)
    expect(seqs(slice.messages)).toEqual([...seqs(range(20, 30)), 90, 91])
  })

  it('keeps what is held when the pages are empty (nothing there)', () => {
    const slice = sliceAround(range(1, 3), [], [], false)
    expect(seqs(slice.messages)).toEqual([1, 2, 3])
    expect(slice.aside).toEqual([])
  })
})

describe('routeIncoming', () => {
  it('sets messages above the slice aside and lets the others through', () => {
    const slice = { messages: range(20, 40), aside: [m(101)] }
    const { within, aside } = routeIncoming(slice, [m(30, 300, 'edit'), m(102), m(100)])
    expect(seqs(within)).toEqual([30])
    expect(seqs(aside)).toEqual([100, 101, 102])
  })

  it('keeps the latest revision of a message set aside twice', () => {
    const { aside } = routeIncoming({ messages: range(1, 2), aside: [m(5)] }, [m(5, 50, 'edited')])
    expect(aside[0]!.body).toBe('edited')
  })

  it('lets everything through into an empty slice', () => {
    const { within, aside } = routeIncoming({ messages: [], aside: [] }, [m(1)])
    expect(seqs(within)).toEqual([1])
    expect(aside).toEqual([])
  })
})

describe('pageForward', () => {
  it('appends a page and stays detached while newer ones exist', () => {
    const next = pageForward({ messages: range(20, 40), aside: [m(100)] }, range(41, 90), true)
    expect(next.attached).toBe(false)
    expect(seqs(next.messages)).toEqual(seqs(range(20, 90)))
    expect(seqs(next.aside)).toEqual([100])
  })

  it('joins up what was set aside, in order and once, when the last page came', () => {
    // 99 came live while paging forward, and is also in the last page.
    const next = pageForward({ messages: range(20, 90), aside: [m(99), m(100), m(101)] }, range(91, 99), false)
    expect(next.attached).toBe(true)
    expect(seqs(next.messages)).toEqual(seqs(range(20, 101)))
    expect(next.aside).toEqual([])
  })

  it('leaves out what was set aside below the slice (no lone message above a hole)', () => {
    const next = pageForward({ messages: range(20, 30), aside: [m(5, 99), m(31)] }, [], false)
    expect(seqs(next.messages)).toEqual(seqs(range(20, 31)))
  })
})

describe('sliceAtEnd', () => {
  it('is the newest page and what was aside from its first seq on', () => {
    expect(seqs(sliceAtEnd([m(5), m(98), m(101)], range(52, 100)))).toEqual(seqs(range(52, 101)))
  })

  it('is what was aside when the room answered nothing', () => {
    expect(seqs(sliceAtEnd([m(3)], []))).toEqual([3])
  })
})

it('newestKnown is the highest of the slice, the aside and the server', () => {
  expect(newestKnown({ messages: range(1, 5), aside: [m(9)] }, 7)).toBe(9)
  expect(newestKnown({ messages: range(1, 5), aside: [] }, 7)).toBe(7)
  expect(newestKnown({ messages: [], aside: [] }, 0)).toBe(0)
})
