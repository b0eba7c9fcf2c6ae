import { describe, expect, it } from 'vitest'
import { unknownRoom, type RoomSummary, type User } from '../lib'
import { dmPeople, groupRooms, isOwner, parsePeople, roomTitle } from './directory'

const me: User = { id: 3, username: 'ann' }
const bob: User = { id: 17, username: 'bob' }
const cy: User = { id: 9, username: 'cy' }
const room = (name: string, patch: Partial<RoomSummary> = {}): RoomSummary => ({ ...unknownRoom(name), ...patch })

describe('the People field', () => {
  it('splits on commas and spaces, drops @ and repeats', () => {
    expect(parsePeople(' bob, cy  dee,,@eve Bob\n')).toEqual(['bob', 'cy', 'dee', 'eve'])
    expect(parsePeople('  , ')).toEqual([])
  })

  it('leaves me out, and needs 1 to 7 others', () => {
    expect(dmPeople('ann, bob', me)).toEqual({ users: ['bob'], problem: null })
    expect(dmPeople('Ann', me).problem).toBe('Name at least one other person.')
    expect(dmPeople('a b c d e f g', me).problem).toBeNull()
    expect(dmPeople('a b c d e f g h', me).problem).toMatch(/at most 8 people/)
  })
})

describe('room titles', () => {
  it('names a dm by its other members, sorted', () => {
    expect(roomTitle(room('dm-3-9-17', { kind: 'dm', members: [me, bob, cy] }), me)).toBe('bob, cy')
  })

  it('falls back to the name while the members are not known, and keeps other rooms’ names', () => {
    expect(roomTitle(room('dm-3-17'), me)).toBe('dm-3-17')
    expect(roomTitle(room('secret', { kind: 'private', members: [me, bob] }), me)).toBe('secret')
  })
})

describe('grouping the Rooms navigation', () => {
  it('puts my rooms, my dms (by title) and the public rooms to join apart', () => {
    const rooms = [
      room('general'),
      room('zeta', { member: false }),
      room('secret', { kind: 'private', members: [me] }),
      room('dm-3-17', { kind: 'dm', members: [me, bob] }),
      room('dm-3-9', { kind: 'dm', members: [me, cy] }),
      room('alpha', { member: false }),
    ]
    const groups = groupRooms(rooms, null, me)
    expect(groups.yours.map((r) => r.name)).toEqual(['general', 'secret'])
    expect(groups.direct.map((r) => r.name)).toEqual(['dm-3-17', 'dm-3-9'])
    expect(groups.more.map((r) => r.name)).toEqual(['alpha', 'zeta'])
  })

  it('counts the open room as mine; a private room listed without me (staff see them) is one to join', () => {
    const rooms = [room('alpha', { member: false }), room('hidden', { kind: 'private', member: false })]
    const groups = groupRooms(rooms, 'alpha', me)
    expect(groups.yours.map((r) => r.name)).toEqual(['alpha'])
    expect(groups.more.map((r) => r.name)).toEqual(['hidden'])
  })
})

describe('ownership', () => {
  it('is the owner, or staff', () => {
    const secret = room('secret', { kind: 'private', owner: bob, members: [me, bob] })
    expect(isOwner(secret, me)).toBe(false)
    expect(isOwner(secret, bob)).toBe(true)
    expect(isOwner(secret, { ...me, is_staff: true })).toBe(true)
    expect(isOwner(room('general'), me)).toBe(false)
  })
})
