import { describe, expect, it } from 'vitest'
import { roomJoined, roomMessageSeen, roomRead, roomsFromServer } from './rooms'
import { V2_FIELDS } from './testing/fakes'
import type { Message, RoomSummary } from './types'

const me = 1
const msg = (room: string, seq: number, authorId: number): Message => ({
  id: seq, room, seq, author: { id: authorId, username: `u${authorId}` }, body: 'x', created_at: '', client_id: `c${seq}`, ...V2_FIELDS,
})
const info = (name: string, last_seq: number, unread: number, member = true) => ({ name, last_seq, member, unread, online: 1 })

describe('unread counts', () => {
  const start: RoomSummary[] = roomsFromServer([], [info('general', 4, 2), info('dev', 1, 0), info('art', 0, 0, false)], null)

  it('takes the server list, sorted by name', () => {
    expect(start.map((r) => [r.name, r.unread])).toEqual([['art', 0], ['dev', 0], ['general', 2]])
  })

  it('counts a live message by someone else in a room not being read, once', () => {
    let list = roomMessageSeen(start, msg('general', 5, 2), me, 'dev')
    list = roomMessageSeen(list, msg('general', 5, 2), me, 'dev')
    expect(list.find((r) => r.name === 'general')).toMatchObject({ unread: 3, last_seq: 5 })
  })

  it('does not count my own messages or the focused room', () => {
    let list = roomMessageSeen(start, msg('general', 5, me), me, null)
    list = roomMessageSeen(list, msg('dev', 2, 2), me, 'dev')
    expect(list.map((r) => r.unread)).toEqual([0, 0, 2])
  })

  it('a messages already counted by the server (seq ≤ last_seq) is not counted again', () => {
    expect(roomMessageSeen(start, msg('general', 4, 2), me, null)).toBe(start)
  })

  it('the focused room reads 0, and markRead clears a count', () => {
    expect(roomsFromServer([], [info('general', 4, 2)], 'general')[0]!.unread).toBe(0)
    expect(roomRead(start, 'general').find((r) => r.name === 'general')!.unread).toBe(0)
    expect(roomRead(start, 'dev')).toBe(start)
  })

  it('keeps live counts newer than a stale server answer, and rooms the answer lacks', () => {
    let list = roomMessageSeen(start, msg('general', 5, 2), me, null)
    list = roomJoined(list, 'brand-new', null, 1)
    const next = roomsFromServer(list, [info('general', 4, 2), info('dev', 1, 0)], null)
    expect(next.find((r) => r.name === 'general')).toMatchObject({ unread: 3, last_seq: 5 })
    expect(next.find((r) => r.name === 'brand-new')).toMatchObject({ member: true })
  })
})
