import { describe, expect, it } from 'vitest'
import { applyPresenceDiff, presenceFromSnapshot } from './presence'

const alice = { id: 1, username: 'alice' }
const bob = { id: 2, username: 'bob' }
const carol = { id: 3, username: 'carol' }

describe('presence', () => {
  it('a snapshot lists each user once, sorted by username', () => {
    expect(presenceFromSnapshot([carol, alice, bob, alice])).toEqual([alice, bob, carol])
  })

  it('a diff adds joins and removes leaves', () => {
    const start = presenceFromSnapshot([alice])
    const withBoth = applyPresenceDiff(start, [carol, bob], [])
    expect(withBoth).toEqual([alice, bob, carol])
    expect(applyPresenceDiff(withBoth, [], [alice])).toEqual([bob, carol])
  })

  it('a join of someone present and a leave of someone absent change nothing', () => {
    const start = presenceFromSnapshot([alice, bob])
    expect(applyPresenceDiff(start, [bob], [carol])).toBe(start)
  })
})
