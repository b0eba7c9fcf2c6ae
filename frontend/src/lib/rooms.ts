// The room list as pure functions: the server's `rooms` answer merged with what
// this tab has seen live since, and live unread counting. A message counts as
// unread once (by seq above last_seq), only when someone else wrote it and the
// room is not the one being read.
import type { RoomInfo } from './protocol'
import type { Message, RoomSummary, User } from './types'

const byName = (a: RoomSummary, b: RoomSummary) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

function upsert(list: RoomSummary[], name: string, change: (room: RoomSummary) => RoomSummary): RoomSummary[] {
  const index = list.findIndex((r) => r.name === name)
  const held = list[index] ?? unknownRoom(name)
  const next = change(held)
  if (index >= 0 && sameSummary(held, next)) return list
  return index >= 0 ? list.map((r, i) => (i === index ? next : r)) : [...list, next].sort(byName)
}

/** A room this tab has not heard the server describe yet: public until it says otherwise. */
export function unknownRoom(name: string): RoomSummary {
  return {
    name, last_seq: 0, member: true, unread: 0, online: 0,
    kind: name.startsWith('dm-') ? 'dm' : 'public', topic: '', owner: null, members: null, mentions: 0,
  }
}

const sameSummary = (a: RoomSummary, b: RoomSummary) =>
  a.last_seq === b.last_seq && a.member === b.member && a.unread === b.unread && a.online === b.online &&
  a.kind === b.kind && a.topic === b.topic && a.owner === b.owner && a.members === b.members &&
  a.mentions === b.mentions

/** The v2 description of a room (kind, topic, owner, members); a v1 answer leaves what is held. */
function described(held: RoomSummary | undefined, info: RoomInfo) {
  const base = held ?? unknownRoom(info.name)
  return {
    kind: info.kind ?? base.kind,
    topic: info.topic ?? base.topic,
    owner: info.owner === undefined ? base.owner : info.owner,
    members: info.members === undefined ? base.members : info.members,
    mentions: info.mentions ?? base.mentions,
  }
}

/** The server's list; where this tab has seen newer messages live, its own count stands. */
export function roomsFromServer(held: RoomSummary[], infos: readonly RoomInfo[], focused: string | null): RoomSummary[] {
  const heldByName = new Map(held.map((r) => [r.name, r]))
  const merged = new Map<string, RoomSummary>()
  for (const info of infos) {
    const local = heldByName.get(info.name)
    const fresher = local && local.last_seq > info.last_seq
    merged.set(info.name, {
      name: info.name,
      last_seq: fresher ? local.last_seq : info.last_seq,
      member: info.member || (local?.member ?? false),
      unread: info.name === focused ? 0 : fresher ? local.unread : info.unread,
      online: info.online,
      ...described(local, info),
      ...(info.name === focused ? { mentions: 0 } : fresher ? { mentions: local.mentions } : {}),
    })
  }
  // A room created here a moment ago may be missing from an answer computed before.
  for (const room of held) if (!merged.has(room.name)) merged.set(room.name, room)
  return [...merged.values()].sort(byName)
}

/** An unasked `room` frame: the server's word on one room for this user, membership included. */
export function roomFromServer(list: RoomSummary[], info: RoomInfo, focused: string | null): RoomSummary[] {
  return upsert(list, info.name, (room) => ({
    name: info.name,
    last_seq: Math.max(room.last_seq, info.last_seq),
    member: info.member,
    unread: info.name === focused || !info.member ? 0 : info.unread,
    online: info.online,
    ...described(room, info),
    ...(info.name === focused || !info.member ? { mentions: 0 } : {}),
  }))
}

/** Members added or taken out here (an `invited` or `removed` answer), before the server's `room` says so. */
export function roomMembers(list: RoomSummary[], name: string, change: (members: User[]) => User[]): RoomSummary[] {
  return list.some((r) => r.name === name && r.members !== null)
    ? upsert(list, name, (room) => {
        const next = change(room.members ?? [])
        const unique = next.filter((user, index) => next.findIndex((other) => other.id === user.id) === index)
        return { ...room, members: unique.sort((a, b) => a.username.localeCompare(b.username)) }
      })
    : list
}

/** A private room this user lost (`room_removed`): gone from the list. */
export function roomRemoved(list: RoomSummary[], name: string): RoomSummary[] {
  return list.some((r) => r.name === name) ? list.filter((r) => r.name !== name) : list
}

/** Left for good: listed among the rooms to join, nothing unread. */
export function roomLeft(list: RoomSummary[], name: string): RoomSummary[] {
  return list.some((r) => r.name === name) ? upsert(list, name, (room) => ({ ...room, member: false, unread: 0 })) : list
}

export const isListed = (list: readonly RoomSummary[], name: string) => list.some((r) => r.name === name)

export function roomMessageSeen(
  list: RoomSummary[], message: Message, selfId: number | null, focused: string | null,
): RoomSummary[] {
  return upsert(list, message.room, (room) => {
    if (message.seq <= room.last_seq) return room
    const counts = message.author.id !== selfId && message.room !== focused
    const mentionsMe = counts && selfId !== null && message.mentions.includes(selfId)
    return {
      ...room, last_seq: message.seq, unread: counts ? room.unread + 1 : room.unread,
      mentions: mentionsMe ? room.mentions + 1 : room.mentions,
    }
  })
}

/** Joined (or a catch-up page): a member now; messages in the join were counted by the server. */
export function roomJoined(list: RoomSummary[], name: string, lastSeq: number | null, online: number): RoomSummary[] {
  return upsert(list, name, (room) => ({
    ...room, member: true, online, last_seq: Math.max(room.last_seq, lastSeq ?? 0),
  }))
}

export function roomOnline(list: RoomSummary[], name: string, online: number): RoomSummary[] {
  return list.some((r) => r.name === name) ? upsert(list, name, (room) => ({ ...room, online })) : list
}

/** Read to the end: nothing unread, no unread mention. */
export function roomRead(list: RoomSummary[], name: string): RoomSummary[] {
  return list.some((r) => r.name === name && (r.unread !== 0 || r.mentions !== 0))
    ? upsert(list, name, (room) => ({ ...room, unread: 0, mentions: 0 }))
    : list
}
