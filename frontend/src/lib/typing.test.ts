import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './env'
import { TypingIndicators, TypingStatus, typistStarted, typistsAt } from './typing'

const alice = { id: 1, username: 'alice' }
const bob = { id: 2, username: 'bob' }
const carol = { id: 3, username: 'carol' }

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('TypingStatus (outbound throttle)', () => {
  const setup = () => {
    const sent: [string, boolean][] = []
    const status = new TypingStatus(systemClock, (room, active) => sent.push([room, active]))
    return { sent, status }
  }

  it('says active at most once every 3 s while the text changes', () => {
    const { sent, status } = setup()
    status.update('r', 'h')
    vi.advanceTimersByTime(1000)
    status.update('r', 'he')
    vi.advanceTimersByTime(1999)
    status.update('r', 'hel')
    expect(sent).toEqual([['r', true]])
    vi.advanceTimersByTime(1)
    status.update('r', 'hell')
    expect(sent).toEqual([['r', true], ['r', true]])
  })

  it('says inactive after 5 s without a change', () => {
    const { sent, status } = setup()
    status.update('r', 'h')
    vi.advanceTimersByTime(4000)
    status.update('r', 'hi')
    vi.advanceTimersByTime(4999)
    expect(sent).toEqual([['r', true], ['r', true]])
    vi.advanceTimersByTime(1)
    expect(sent).toEqual([['r', true], ['r', true], ['r', false]])
    vi.advanceTimersByTime(60_000)
    expect(sent).toHaveLength(3)
  })

  it('says inactive on send/blur, and only if it had said active', () => {
    const { sent, status } = setup()
    status.stop('r')
    status.update('r', '')
    expect(sent).toEqual([])
    status.update('r', 'x')
    status.stop('other')
    status.stop('r')
    status.stop('r')
    expect(sent).toEqual([['r', true], ['r', false]])
  })

  it('says inactive when the text is emptied after typing', () => {
    const { sent, status } = setup()
    status.update('r', 'x')
    status.update('r', '')
    expect(sent).toEqual([['r', true], ['r', false]])
  })

  it('moving to another room stops the first', () => {
    const { sent, status } = setup()
    status.update('a', 'x')
    status.update('b', 'y')
    expect(sent).toEqual([['a', true], ['a', false], ['b', true]])
  })
})

describe('typing indicators (inbound)', () => {
  const setup = () => {
    const seen: string[][] = []
    const indicators = new TypingIndicators(systemClock, () => alice.id, (users) => seen.push(users.map((u) => u.username)))
    return { seen, indicators }
  }

  it('expire 10 s after the last active: true', () => {
    const { seen, indicators } = setup()
    indicators.typing(bob, true)
    vi.advanceTimersByTime(6000)
    indicators.typing(bob, true)
    indicators.typing(carol, true)
    expect(seen.at(-1)).toEqual(['bob', 'carol'])
    vi.advanceTimersByTime(9999)
    expect(seen.at(-1)).toEqual(['bob', 'carol'])
    vi.advanceTimersByTime(1)
    expect(seen.at(-1)).toEqual([])
  })

  it('drop on active: false, on a message from them or their leave; never show me', () => {
    const { seen, indicators } = setup()
    indicators.typing(alice, true)
    expect(seen).toEqual([])
    indicators.typing(bob, true)
    indicators.typing(carol, true)
    indicators.typing(bob, false)
    expect(seen.at(-1)).toEqual(['carol'])
    indicators.clear(carol.id)
    expect(seen.at(-1)).toEqual([])
    const count = seen.length
    indicators.clear(carol.id)
    expect(seen).toHaveLength(count)
  })

  it('pure expiry keeps the same list when nothing expired', () => {
    const list = typistStarted([], bob, 0)
    expect(typistsAt(list, 9_999)).toBe(list)
    expect(typistsAt(list, 10_000)).toEqual([])
  })
})
