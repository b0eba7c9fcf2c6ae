import { describe, expect, it } from 'vitest'
import { NO_REVISIONS, caughtUpTo, liveRevision, missedChange } from './revs'

describe('room revisions', () => {
  it('knows nothing until the server names a revision (a v1 server never does)', () => {
    expect(liveRevision(NO_REVISIONS, 5)).toBe(NO_REVISIONS)
    expect(missedChange(NO_REVISIONS)).toBe(false)
  })

  it('moves up one live change at a time', () => {
    let state = caughtUpTo(NO_REVISIONS, 3)
    state = liveRevision(state, 4)
    state = liveRevision(state, 5)
    expect(state).toEqual({ held: 5, ahead: [] })
    expect(missedChange(state)).toBe(false)
  })

  it('sees a skipped revision, and closes it when the missing change comes', () => {
    let state = caughtUpTo(NO_REVISIONS, 3)
    state = liveRevision(state, 5)
    expect(state).toEqual({ held: 3, ahead: [5] })
    expect(missedChange(state)).toBe(true)
    state = liveRevision(state, 4)
    expect(state).toEqual({ held: 5, ahead: [] })
  })

  it('ignores a change it already applied (own answer, then the live frame)', () => {
    const state = liveRevision(caughtUpTo(NO_REVISIONS, 3), 4)
    expect(liveRevision(state, 4)).toBe(state)
    expect(liveRevision(state, 2)).toBe(state)
    const gapped = liveRevision(state, 7)
    expect(liveRevision(gapped, 7)).toBe(gapped)
  })

  it('a changes answer covers everything up to its rev; live changes above it stay ahead', () => {
    let state = caughtUpTo(NO_REVISIONS, 3)
    state = liveRevision(state, 6)
    state = liveRevision(state, 9)
    state = caughtUpTo(state, 7)
    expect(state).toEqual({ held: 7, ahead: [9] })
    state = caughtUpTo(state, 8)
    expect(state).toEqual({ held: 9, ahead: [] })
  })
})
