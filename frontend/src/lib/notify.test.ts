import { describe, expect, it } from 'vitest'
import { STALE_MESSAGE_MS, defaultLevel, levelOf, notificationTag, notificationText, shouldNotify } from './notify'
import type { Message, RoomSummary } from './types'
import { unknownRoom } from './rooms'
import { alice, bob, carol } from './testing/fakes'

const NOW = Date.parse('2026-11-30T12:00:00Z')

function message(patch: Partial<Message> = {}): Message {
  return {
    id: 1, room: 'general', seq: 1, author: bob, body: 'hello there', created_at: new Date(NOW - 1000).toISOString(),
    client_id: 'c1', rev: 1, reply_to: null, mentions: [], edited_at: null, deleted: false, reactions: [], ...patch,
  }
}

const hiddenCase = (m: Message, level: 'all' | 'mentions' | 'nothing') => ({ message: m, me: alice.id, level, hidden: true, now: NOW })

describe('levels', () => {
  it('defaults to every message in a dm and mentions elsewhere, as the server does', () => {
    expect(defaultLevel('dm')).toBe('all')
    expect(defaultLevel('public')).toBe('mentions')
    expect(defaultLevel('private')).toBe('mentions')
  })

  it("takes the server's level of a room over its kind's default", () => {
    const levels = { 'dm-1-2': 'nothing', general: 'all' } as const
    expect(levelOf(levels, 'dm-1-2', 'dm')).toBe('nothing')
    expect(levelOf(levels, 'general', 'public')).toBe('all')
    expect(levelOf(levels, 'dm-1-3', 'dm')).toBe('all')
    expect(levelOf(levels, 'random', 'public')).toBe('mentions')
    // Not fooled by names of Object's own properties.
    expect(levelOf(levels, 'constructor', 'public')).toBe('mentions')
  })
})

describe('shouldNotify', () => {
  it('never while the tab is visible, the open room or another one', () => {
    for (const level of ['all', 'mentions'] as const) {
      expect(shouldNotify({ ...hiddenCase(message({ mentions: [alice.id] }), level), hidden: false })).toBe(false)
    }
  })

  it('follows the level while hidden: all, mentions only, nothing', () => {
    const plain = message()
    const mention = message({ mentions: [carol.id, alice.id] })
    expect(shouldNotify(hiddenCase(plain, 'all'))).toBe(true)
    expect(shouldNotify(hiddenCase(mention, 'all'))).toBe(true)
    expect(shouldNotify(hiddenCase(plain, 'mentions'))).toBe(false)
    expect(shouldNotify(hiddenCase(message({ mentions: [carol.id] }), 'mentions'))).toBe(false)
    expect(shouldNotify(hiddenCase(mention, 'mentions'))).toBe(true)
    expect(shouldNotify(hiddenCase(mention, 'nothing'))).toBe(false)
  })

  it("never for this person's own messages (another tab of theirs), nor deleted ones", () => {
    expect(shouldNotify(hiddenCase(message({ author: alice, mentions: [alice.id] }), 'all'))).toBe(false)
    expect(shouldNotify(hiddenCase(message({ deleted: true, body: '' }), 'all'))).toBe(false)
  })

  it('never for a message that is old news when it arrives (caught up after a long time away)', () => {
    const old = message({ created_at: new Date(NOW - STALE_MESSAGE_MS - 1).toISOString(), mentions: [alice.id] })
    expect(shouldNotify(hiddenCase(old, 'all'))).toBe(false)
    const recent = message({ created_at: new Date(NOW - STALE_MESSAGE_MS + 1000).toISOString() })
    expect(shouldNotify(hiddenCase(recent, 'all'))).toBe(true)
  })
})

describe('notificationText', () => {
  const dm = (members: RoomSummary['members']): RoomSummary => ({ ...unknownRoom('dm-1-2'), kind: 'dm', members })

  it('names the author and the room', () => {
    expect(notificationText(message(), unknownRoom('general'), alice)).toEqual({ title: 'bob in #general', body: 'hello there' })
    // A room not listed yet is described from its name.
    expect(notificationText(message({ room: 'random' }), undefined, alice).title).toBe('bob in #random')
  })

  it('calls a dm by its people: the author alone in a dm of two, the others in a group', () => {
    const m = message({ room: 'dm-1-2' })
    expect(notificationText(m, dm([alice, bob]), alice).title).toBe('bob')
    expect(notificationText(m, dm([alice, bob, carol]), alice).title).toBe('bob in bob, carol')
    expect(notificationText(m, undefined, alice).title).toBe('bob')
  })

  it("shows the body's start on one line, and says what an empty body is", () => {
    const long = 'word '.repeat(100)
    const { body } = notificationText(message({ body: `  first\n\nline ${long}` }), undefined, alice)
    expect(Array.from(body)).toHaveLength(120)
    expect(body.startsWith('first line word')).toBe(true)
    expect(body.endsWith('…')).toBe(true)
    expect(notificationText(message({ body: '🙂'.repeat(130) }), undefined, alice).body).toBe(`${'🙂'.repeat(119)}…`)
    expect(notificationText(message({ body: '' }), undefined, alice).body).toBe('Sent an attachment')
  })

  it('tags one notification per room', () => {
    expect(notificationTag('general')).toBe('room:general')
  })
})
