import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ChangeQueue, reactedWith, withPendingChanges, withReaction } from './changes'
import { PushError } from './push'
import { V2_FIELDS, alice, bob, carol, flush } from './testing/fakes'
import type { Message, PendingChange } from './types'

const message: Message = {
  id: 1, room: 'general', seq: 4, author: bob, body: 'hello', created_at: '2026-11-21T10:00:00.000000Z',
  client_id: 'c1', ...V2_FIELDS, rev: 7,
}
const pending = (id: string, change: PendingChange['change'], status: PendingChange['status'] = 'sending'): PendingChange => ({
  id, room: 'general', seq: 4, change, status, error: null,
})

describe('reactions as the server keeps them', () => {
  it('adds a new emoji at the end and a user in id order; removing the last user removes the emoji', () => {
    let m = withReaction(message, '👍', true, carol)
    m = withReaction(m, '🎉', true, alice)
    m = withReaction(m, '👍', true, alice)
    expect(m.reactions).toEqual([{ emoji: '👍', users: [alice, carol] }, { emoji: '🎉', users: [alice] }])
    expect(reactedWith(m, '👍', alice)).toBe(true)
    m = withReaction(m, '🎉', false, alice)
    expect(m.reactions).toEqual([{ emoji: '👍', users: [alice, carol] }])
  })

  it('setting what is already so changes nothing (same object)', () => {
    const m = withReaction(message, '👍', true, alice)
    expect(withReaction(m, '👍', true, alice)).toBe(m)
    expect(withReaction(message, '👍', false, alice)).toBe(message)
  })
})

describe('a message with the changes still on their way', () => {
  it('shows an edit, a reaction and then a delete in the order made; failed ones are not shown', () => {
    const edited = withPendingChanges(message, [pending('a', { kind: 'edit', body: 'hello there' })], bob)
    expect(edited).toMatchObject({ body: 'hello there', edited_at: message.created_at })
    const reacted = withPendingChanges(message, [
      pending('a', { kind: 'react', emoji: '👍', active: true }),
      pending('b', { kind: 'edit', body: 'nope' }, 'failed'),
    ], alice)
    expect(reacted).toMatchObject({ body: 'hello', reactions: [{ emoji: '👍', users: [alice] }] })
    const deleted = withPendingChanges(message, [
      pending('a', { kind: 'react', emoji: '👍', active: true }), pending('b', { kind: 'delete' }),
    ], bob)
    expect(deleted).toMatchObject({ deleted: true, body: '', reactions: [], reply_to: null })
  })
})

describe('the queue of changes', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  function queue(ready = true) {
    const sent: PendingChange[] = []
    const answers: ((value: unknown) => void)[] = []
    const refusals: ((error: unknown) => void)[] = []
    const applied: Message[] = []
    const host = {
      ready: () => ready,
      transmit(change: PendingChange) {
        sent.push(change)
        return new Promise<Message>((resolve, reject) => {
          answers.push(resolve as (value: unknown) => void)
          refusals.push(reject)
        })
      },
      applied: (m: Message) => void applied.push(m),
      changed: () => {},
      rejoin: vi.fn(),
    }
    const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (t: unknown) => clearTimeout(t as number) }
    const q = new ChangeQueue(null, host, clock, () => 0.5)
    return { q, sent, answers, refusals, applied, host, setReady: (value: boolean) => (ready = value) }
  }

  it('sends one change per room at a time, in the order made, and applies each answer', async () => {
    const { q, sent, answers, applied } = queue()
    q.add(pending('a', { kind: 'edit', body: 'one' }))
    q.add(pending('b', { kind: 'react', emoji: '👍', active: true }))
    q.flush()
    expect(sent.map((c) => c.id)).toEqual(['a'])
    answers[0]!({ ...message, body: 'one', rev: 8 })
    await flush()
    expect(sent.map((c) => c.id)).toEqual(['a', 'b'])
    expect(applied.map((m) => m.rev)).toEqual([8])
    expect(q.forRoom('general').map((c) => c.id)).toEqual(['b'])
  })

  it('waits while the room is not joined, and sends again what the socket lost', async () => {
    const { q, sent, refusals, setReady } = queue(false)
    q.add(pending('a', { kind: 'delete' }))
    q.flush()
    expect(sent).toEqual([])
    setReady(true)
    q.flush()
    refusals[0]!(new PushError('disconnected', 'gone'))
    await flush()
    q.disconnected()
    q.flush()
    expect(sent.map((c) => c.id)).toEqual(['a', 'a'])
  })

  it('a refusal waiting will not fix marks it failed with a human reason; retry sends it again, discard drops it', async () => {
    const { q, sent, refusals } = queue()
    q.add(pending('a', { kind: 'edit', body: 'x' }))
    q.flush()
    refusals[0]!(new PushError('forbidden', 'not yours'))
    await flush()
    expect(q.forRoom('general')).toEqual([expect.objectContaining({ status: 'failed', error: 'You may not change this message' })])
    q.retry('a')
    q.flush()
    expect(sent).toHaveLength(2)
    refusals[1]!(new PushError('not_found', 'gone'))
    await flush()
    q.discard('a')
    expect(q.forRoom('general')).toEqual([])
  })

  it('rate_limited pauses and sends again by itself', async () => {
    const { q, sent, refusals } = queue()
    q.add(pending('a', { kind: 'react', emoji: '🎉', active: true }))
    q.flush()
    refusals[0]!(new PushError('rate_limited', 'slow'))
    await flush()
    expect(sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2_000)
    expect(sent).toHaveLength(2)
  })
})
