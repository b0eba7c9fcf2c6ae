import { describe, expect, it } from 'vitest'
import type { Message, PendingMessage, User } from '../lib'
import {
  buildLog,
  connectionText,
  continuesGroup,
  documentTitle,
  formatClock,
  normalizeRoomName,
  roomNameProblem,
  secondsUntil,
  storedLog,
  typingText,
  withPending,
} from './view'
import { V2_FIELDS } from '../lib/testing/fakes'

const alice: User = { id: 1, username: 'alice' }
const bob: User = { id: 2, username: 'bob' }
const carol: User = { id: 3, username: 'carol' }

function stored(seq: number, author: User, createdAt: string, clientId = `c${seq}`): Message {
  return { id: 100 + seq, room: 'general', seq, author, body: `m${seq}`, created_at: createdAt, client_id: clientId, ...V2_FIELDS }
}

function pending(clientId: string, author: User, createdAt: string): PendingMessage {
  return { client_id: clientId, room: 'general', body: 'p', author, created_at: createdAt, status: 'sending', error: null }
}

describe('room names', () => {
  it('lowercases and trims what was typed', () => {
    expect(normalizeRoomName('  General ')).toBe('general')
  })
  it('accepts the server pattern and explains what it refuses', () => {
    expect(roomNameProblem('dev_ops-2')).toBeNull()
    expect(roomNameProblem('a'.repeat(64))).toBeNull()
    expect(roomNameProblem('')).toMatch(/Enter a room name/)
    expect(roomNameProblem('a'.repeat(65))).toMatch(/at most 64/)
    expect(roomNameProblem('-dev')).toMatch(/start with a letter or a digit/)
    expect(roomNameProblem('my room')).toMatch(/no spaces/)
    expect(roomNameProblem('Caps')).not.toBeNull()
  })
})

describe('typingText', () => {
  it('names one or two typists, then summarizes', () => {
    expect(typingText([])).toBe('')
    expect(typingText([alice])).toBe('alice is typing…')
    expect(typingText([alice, bob])).toBe('alice and bob are typing…')
    expect(typingText([alice, bob, carol])).toBe('Several people are typing…')
  })
})

describe('connection text', () => {
  it('counts whole seconds down to the retry, never below zero', () => {
    expect(secondsUntil(10_000, 7_100)).toBe(3)
    expect(secondsUntil(10_000, 10_000)).toBe(0)
    expect(secondsUntil(10_000, 12_000)).toBe(0)
  })
  it('is empty while connected and says when the next attempt is', () => {
    expect(connectionText('connected', null, 0, true)).toBe('')
    expect(connectionText('idle', null, 0, false)).toBe('')
    expect(connectionText('connecting', null, 0, false)).toBe('Connecting…')
    expect(connectionText('connecting', null, 0, true)).toBe('Reconnecting…')
    expect(connectionText('reconnecting', 5_000, 1_500, true)).toBe('Reconnecting… in 4 s')
    expect(connectionText('reconnecting', 5_000, 5_000, true)).toBe('Reconnecting…')
  })
})

describe('grouping', () => {
  it('groups one author within five minutes only', () => {
    const first = stored(1, alice, '2026-11-21T10:00:00Z')
    expect(continuesGroup(undefined, first)).toBe(false)
    expect(continuesGroup(first, stored(2, alice, '2026-11-21T10:04:59Z'))).toBe(true)
    expect(continuesGroup(first, stored(2, alice, '2026-11-21T10:05:00Z'))).toBe(false)
    expect(continuesGroup(first, stored(2, bob, '2026-11-21T10:00:10Z'))).toBe(false)
  })

  it('puts pending messages after stored ones and drops those already stored', () => {
    const log = buildLog(
      [stored(1, alice, '2026-11-21T10:00:00Z'), stored(2, alice, '2026-11-21T10:01:00Z', 'acked')],
      [pending('acked', alice, '2026-11-21T10:01:00Z'), pending('new', alice, '2026-11-21T10:02:00Z')],
    )
    expect(log.map((entry) => [entry.kind, entry.key, entry.continues])).toEqual([
      ['stored', 'm101', false],
      ['stored', 'm102', true],
      ['pending', 'pnew', true],
    ])
  })
})

const stored1 = () => stored(1, alice, '2026-11-21T10:00:00Z')

describe('pending rows on top of the stored ones', () => {
  it('reuses the stored rows, and carries the group and the day on into the pending ones', () => {
    const held = storedLog([stored1(), stored(2, alice, '2026-11-21T10:01:00Z', 'acked')])
    expect(withPending(held, [])).toBe(held.entries)
    expect(withPending(held, [pending('acked', alice, '2026-11-21T10:01:00Z')])).toBe(held.entries)
    const rows = withPending(held, [pending('new', alice, '2026-11-21T10:02:00Z')])
    expect(rows.slice(0, 2)).toEqual(held.entries)
    expect(rows[2]).toMatchObject({ kind: 'pending', continues: true, startsDay: false })
  })
})

describe('days in the log', () => {
  it('starts a day at the first message of each day in the reader’s zone and breaks the group there', () => {
    const zone = 'America/New_York'
    const log = buildLog(
      [
        stored(1, alice, '2026-11-24T04:55:00Z'), // 23:55 on the 23rd in New York
        stored(2, alice, '2026-11-24T04:58:00Z'),
        stored(3, alice, '2026-11-24T05:01:00Z'), // 00:01 on the 24th: same group but a new day
      ],
      [pending('p', alice, '2026-11-24T05:02:00Z')],
      { timeZone: zone },
    )
    expect(log.map((entry) => [entry.startsDay, entry.continues])).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
    ])
    expect(log[2]!.day - log[0]!.day).toBe(1)
    // In UTC all four are on the 24th.
    const messages = log.slice(0, 3).map((entry) => entry.message as Message)
    expect(buildLog(messages, [], { timeZone: 'UTC' }).map((e) => e.startsDay)).toEqual([true, false, false])
    // While older pages remain, the oldest held row's day may have begun before it.
    expect(buildLog(messages, [], { timeZone: zone, fromStart: false }).map((e) => e.startsDay)).toEqual([false, false, true])
  })
})

describe('labels', () => {
  it('titles the tab with the unread total', () => {
    expect(documentTitle('#general', 0)).toBe('#general · Chat')
    expect(documentTitle('bob, cy', 1)).toBe('(1) bob, cy · Chat')
    expect(documentTitle(null, 2)).toBe('(2) Chat')
  })
  it('formats the clock as hh:mm in local time', () => {
    const local = new Date(2026, 10, 21, 9, 5, 0).toISOString()
    expect(formatClock(local)).toBe('09:05')
    expect(formatClock('not a date')).toBe('')
  })
})
