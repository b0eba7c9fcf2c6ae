import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_BODY_LENGTH, bodyLength, parseServerFrame, trimBody } from './protocol'

const message = {
  id: 7, room: 'general', seq: 3, author: { id: 1, username: 'alice' }, body: 'hi',
  created_at: '2026-11-21T10:00:00.000000Z', client_id: 'c1',
  rev: 5, reply_to: { seq: 1, author: { id: 2, username: 'bob' }, excerpt: 'first' }, mentions: [2],
  edited_at: '2026-11-21T10:01:00.000000Z', deleted: false, reactions: [{ emoji: '👍', users: [{ id: 2, username: 'bob' }] }],
  attachments: [],
}

describe('parseServerFrame', () => {
  afterEach(() => vi.restoreAllMocks())

  it('accepts every server frame of the contract', () => {
    const frames = [
      { type: 'pong', ref: '1' },
      { type: 'rooms', ref: '2', rooms: [{ name: 'general', last_seq: 3, member: true, unread: 1, online: 2 }] },
      { type: 'joined', room: 'general', presence: [message.author], messages: [message], has_more: false },
      { type: 'left', room: 'general' },
      { type: 'sent', ref: '3', message },
      { type: 'history', room: 'general', messages: [], has_more: true },
      { type: 'message', room: 'general', message },
      { type: 'typing', room: 'general', user: message.author, active: true },
      { type: 'presence', room: 'general', joins: [], leaves: [message.author] },
      { type: 'error', ref: '4', code: 'bad_frame', detail: 'no' },
      { type: 'update', room: 'general', message },
      { type: 'edited', ref: '5', message },
      { type: 'deleted', ref: '6', message: { ...message, deleted: true, body: '', reactions: [], mentions: [], reply_to: null } },
      { type: 'reacted', ref: '7', message },
      { type: 'changes', ref: '8', room: 'general', messages: [message], has_more: false, rev: 9 },
      { type: 'joined', room: 'general', presence: [], messages: [], has_more: false, rev: 9 },
      { type: 'push_subscribed', ref: '9' },
      { type: 'push_unsubscribed' },
      { type: 'notify_settings', ref: '10', rooms: { general: 'mentions', 'dm-1-2': 'all', quiet: 'nothing' } },
      { type: 'notify_settings', rooms: {} },
      { type: 'notify', ref: '11', room: 'general', level: 'all' },
      { type: 'notify', room: 'general', level: 'nothing' },
      { type: 'search', ref: '12', messages: [message], has_more: true },
    ]
    for (const frame of frames) expect(parseServerFrame(JSON.stringify(frame))).toEqual(frame)
  })

  it("gives a v1 server's messages version 2's defaults", () => {
    const v1 = {
      id: 7, room: 'general', seq: 3, author: { id: 1, username: 'alice' }, body: 'hi',
      created_at: '2026-11-21T10:00:00.000000Z', client_id: 'c1',
    }
    const defaults = { rev: 0, reply_to: null, mentions: [], edited_at: null, deleted: false, reactions: [], attachments: [] }
    expect(parseServerFrame(JSON.stringify({ type: 'message', room: 'general', message: v1 }))).toEqual({
      type: 'message', room: 'general', message: { ...v1, ...defaults },
    })
    expect(parseServerFrame(JSON.stringify({ type: 'history', room: 'general', messages: [v1], has_more: false }))).toEqual({
      type: 'history', room: 'general', messages: [{ ...v1, ...defaults }], has_more: false,
    })
  })

  it('drops a message whose v2 fields are mistyped', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    for (const wrong of [{ rev: '1' }, { reactions: [{ emoji: 1, users: [] }] }, { reply_to: { seq: 1 } }, { mentions: ['x'] }]) {
      expect(parseServerFrame(JSON.stringify({ type: 'update', room: 'general', message: { ...message, ...wrong } }))).toBeNull()
    }
    expect(warn).toHaveBeenCalled()
  })

  it('logs and drops malformed or unknown frames instead of throwing', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const bad = [
      'not json{',
      '[1,2]',
      'null',
      '{"type": "surprise"}',
      '{"type": "toString"}',
      '{"no": "type"}',
      JSON.stringify({ type: 'message', room: 'general', message: { ...message, seq: '3' } }),
      JSON.stringify({ type: 'message', room: 'general', message: { ...message, author: null } }),
      JSON.stringify({ type: 'joined', room: 'general', presence: [], messages: [], has_more: 'no' }),
      JSON.stringify({ type: 'pong', ref: 5 }),
      JSON.stringify({ type: 'typing', room: 'general', user: message.author }),
      JSON.stringify({ type: 'notify', room: 'general', level: 'loud' }),
      JSON.stringify({ type: 'notify', level: 'all' }),
      JSON.stringify({ type: 'notify_settings', rooms: { general: 'sometimes' } }),
      JSON.stringify({ type: 'notify_settings', rooms: ['general'] }),
    ]
    for (const text of bad) expect(parseServerFrame(text)).toBeNull()
    expect(parseServerFrame(new ArrayBuffer(2))).toBeNull()
    expect(warn).toHaveBeenCalledTimes(bad.length + 1)
  })
})

describe('bodyLength', () => {
  it('counts code points, as the server does, not UTF-16 units', () => {
    expect(bodyLength('héllo')).toBe(5)
    expect(bodyLength('😀😀')).toBe(2)
    expect(bodyLength('😀'.repeat(MAX_BODY_LENGTH)) > MAX_BODY_LENGTH).toBe(false)
    expect(bodyLength('a'.repeat(MAX_BODY_LENGTH + 1)) > MAX_BODY_LENGTH).toBe(true)
  })
})

describe('trimBody', () => {
  it('trims what the server trims, so it never sends a body the server calls empty', () => {
    expect(trimBody('  hi  ')).toBe('hi')
    expect(trimBody('\u200b\u2060\u180e\ufeff\u0085\u001f')).toBe('')
    expect(trimBody('\u200bzero\u200bwidth\u200b')).toBe('zero\u200bwidth')
    expect(trimBody('\u3000line\n\u2028')).toBe('line')
  })
})
