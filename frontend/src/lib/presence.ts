// Presence math as pure functions (after Phoenix's presence.js): a `joined`
// snapshot replaces the list, a `presence` diff adds joins and drops leaves.
// The result holds each user once, sorted by username; an unchanged list is
// returned as the same array so stores notify nobody.
import type { User } from './types'

const byUsername = (a: User, b: User) =>
  a.username < b.username ? -1 : a.username > b.username ? 1 : a.id - b.id

/** Each user once (by id, the last seen wins), sorted by username. */
export function presenceFromSnapshot(users: readonly User[]): User[] {
  const byId = new Map<number, User>()
  for (const user of users) byId.set(user.id, user)
  return [...byId.values()].sort(byUsername)
}

export function applyPresenceDiff(
  current: User[],
  joins: readonly User[],
  leaves: readonly User[],
): User[] {
  const byId = new Map(current.map((user) => [user.id, user]))
  let changed = false
  for (const user of joins) {
    const held = byId.get(user.id)
    if (!held || held.username !== user.username) {
      byId.set(user.id, user)
      changed = true
    }
  }
  for (const user of leaves) {
    if (byId.delete(user.id)) changed = true
  }
  return changed ? [...byId.values()].sort(byUsername) : current
}
