import { describe, expect, it } from 'vitest'
import { V2_FIELDS, alice, bob, carol } from '../lib/testing/fakes'
import type { Message, User } from '../lib'
import { insertMention, mentionCandidates, mentionQuery } from './mentions'

const msg = (author: User, seq: number): Message => ({
  id: seq, room: 'r', seq, author, body: 'x', created_at: '', client_id: `c${seq}`, ...V2_FIELDS,
})

describe('mention suggestions', () => {
  it('finds the @word before the caret, at the start or after white space only', () => {
    expect(mentionQuery('hi @bo', 6)).toEqual({ start: 3, query: 'bo' })
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionQuery('mail a@bo', 9)).toBeNull()
    expect(mentionQuery('hi @bob there', 13)).toBeNull()
  })

  it('offers members, people here and recent authors once, never me, matching any case', () => {
    const dave = { id: 4, username: 'Dave' }
    const names = mentionCandidates('', alice, { members: [alice, carol], present: [bob, alice], messages: [msg(dave, 1), msg(bob, 2)] })
    expect(names.sort()).toEqual(['Dave', 'bob', 'carol'])
    expect(mentionCandidates('da', alice, { members: null, present: [], messages: [msg(dave, 1)] })).toEqual(['Dave'])
    expect(mentionCandidates('zz', alice, { members: [bob], present: [], messages: [] })).toEqual([])
  })

  it('puts the chosen name in place of what was typed, with a space after', () => {
    expect(insertMention('hi @bo', 6, 3, 'bob')).toEqual({ text: 'hi @bob ', caret: 8 })
    expect(insertMention('hi @bo and more', 6, 3, 'bob')).toEqual({ text: 'hi @bob and more', caret: 8 })
  })
})
