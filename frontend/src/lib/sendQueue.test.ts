import { describe, expect, it } from 'vitest'
import { PushError } from './push'
import { classifyRefusal, dueMessages, inWrittenOrder, retryDelay } from './sendQueue'
import { alice } from './testing/fakes'
import type { PendingMessage } from './types'

const m = (client_id: string, room: string, second: number, status: PendingMessage['status'] = 'sending'): PendingMessage => ({
  client_id, room, body: client_id, author: alice, created_at: `2026-11-21T10:00:${String(second).padStart(2, '0')}.000Z`,
  status, error: null,
})

describe('sendQueue', () => {
  it('orders by the time written, keeping ties in the order given', () => {
    const list = [m('c', 'r', 3), m('a', 'r', 1), m('b1', 'r', 2), m('b2', 'r', 2)]
    expect(inWrittenOrder(list).map((x) => x.client_id)).toEqual(['a', 'b1', 'b2', 'c'])
  })

  it('is due: the oldest sending message per room with nothing in flight there, in a ready room', () => {
    const list = [m('a1', 'a', 1), m('a2', 'a', 2), m('b1', 'b', 3, 'failed'), m('b2', 'b', 4), m('c1', 'c', 5), m('d1', 'd', 6)]
    const ready = (room: string) => room !== 'd'
    expect(dueMessages(list, new Set(), ready).map((x) => x.client_id)).toEqual(['a1', 'b2', 'c1'])
    expect(dueMessages(list, new Set(['a1', 'c1']), ready).map((x) => x.client_id)).toEqual(['b2'])
    // A message waiting in a room that is not ready still holds back the later ones there.
    expect(dueMessages([m('d1', 'd', 1), m('d2', 'd', 2)], new Set(), ready)).toEqual([])
  })

  it('tells waiting from failing', () => {
    const kind = (code: string) => classifyRefusal(new PushError(code, '')).kind
    expect(['rate_limited', 'timeout', 'server_error'].map(kind)).toEqual(['wait', 'wait', 'wait'])
    expect(kind('disconnected')).toBe('resend')
    expect(kind('not_joined')).toBe('rejoin')
    expect(['invalid_body', 'bad_frame', 'forbidden', 'invalid_room'].map(kind)).toEqual(['fail', 'fail', 'fail', 'fail'])
    expect(classifyRefusal(new Error('boom')).kind).toBe('fail')
  })

  it('backs off by doubling up to the window, the upper half random', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => retryDelay(n, () => 0))).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000])
    expect([0, 1, 4].map((n) => retryDelay(n, () => 1))).toEqual([1000, 2000, 10_000])
  })
})
