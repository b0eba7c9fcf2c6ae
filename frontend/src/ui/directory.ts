// Rooms and people as a person reads them: who a dm is with, how the Rooms
// navigation groups its links, and the People field of a new dm. Pure functions.
import { MAX_DM_OTHERS, type RoomSummary, type User } from '../lib'

/** The usernames typed in `People`: split on commas and spaces, `@` dropped, each once (case-insensitively). */
export function parsePeople(text: string): string[] {
  const seen = new Set<string>()
  const people: string[] = []
  for (const word of text.split(/[\s,;]+/)) {
    const name = word.replace(/^@+/, '')
    if (name === '' || seen.has(name.toLowerCase())) continue
    seen.add(name.toLowerCase())
    people.push(name)
  }
  return people
}

/** The people of a new dm besides me, or why they cannot be one. */
export function dmPeople(text: string, me: User): { users: string[]; problem: string | null } {
  const users = parsePeople(text).filter((name) => name.toLowerCase() !== me.username.toLowerCase())
  if (users.length === 0) return { users, problem: 'Name at least one other person.' }
  if (users.length > MAX_DM_OTHERS) {
    return { users, problem: `A direct message has at most ${MAX_DM_OTHERS + 1} people, you included.` }
  }
  return { users, problem: null }
}

/** The members of a room other than me, by username. */
export function otherMembers(room: RoomSummary, me: User): User[] {
  return (room.members ?? []).filter((user) => user.id !== me.id).sort((a, b) => a.username.localeCompare(b.username))
}

/** What a room is called here: its name, or for a dm the other members' usernames. */
export function roomTitle(room: RoomSummary, me: User): string {
  if (room.kind !== 'dm') return room.name
  const others = otherMembers(room, me)
  return others.length > 0 ? others.map((user) => user.username).join(', ') : room.name
}

export interface RoomGroups {
  /** Public and private rooms I am a member of (and the open one). */
  yours: RoomSummary[]
  /** My dm rooms, by who they are with. */
  direct: RoomSummary[]
  /** Rooms I could join: public ones (and, for staff, private ones they are not in). */
  more: RoomSummary[]
}

/** The Rooms navigation's groups, each in the order shown. */
export function groupRooms(rooms: readonly RoomSummary[], current: string | null, me: User): RoomGroups {
  const byName = (a: RoomSummary, b: RoomSummary) => a.name.localeCompare(b.name)
  const byTitle = (a: RoomSummary, b: RoomSummary) => roomTitle(a, me).localeCompare(roomTitle(b, me)) || byName(a, b)
  const mine = (room: RoomSummary) => room.member || room.name === current
  return {
    yours: rooms.filter((room) => room.kind !== 'dm' && mine(room)).sort(byName),
    direct: rooms.filter((room) => room.kind === 'dm' && mine(room)).sort(byTitle),
    more: rooms.filter((room) => !mine(room) && room.kind !== 'dm').sort(byName),
  }
}

/** Whether I may remove members and change everything of the room: its owner, or staff. */
export function isOwner(room: RoomSummary, me: User): boolean {
  return me.is_staff === true || (room.owner !== null && room.owner.id === me.id)
}
