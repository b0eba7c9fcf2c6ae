import { describe, expect, it } from 'vitest'
import { Outbox, humanSendError } from './outbox'
import { PushError } from './push'
import { MemoryStorage, alice } from './testing/fakes'
import type { PendingMessage } from './types'

const pending = (client_id: string, room = 'general', created_at = '2026-11-21T10:00:00.000Z'): PendingMessage => ({
  client_id, room, body: `body ${client_id}`, author: alice, created_at, status: 'sending', error: null,
})

describe('Outbox', () => {
  it('persists per user, one entry per message, so two tabs do not clobber each other', () => {
    const storage = new MemoryStorage()
    const changes: string[] = []
    const tabA = new Outbox(storage, () => new Promise(() => {}), (room) => changes.push(room))
    const tabB = new Outbox(storage, () => new Promise(() => {}), () => {})
    tabA.load(alice)
    tabB.load(alice)
    tabA.add(pending('a1'))
    tabB.add(pending('b1', 'dev'))
    tabA.acknowledge('a1')
    const reloaded = new Outbox(storage, () => new Promise(() => {}), () => {})
    reloaded.load(alice)
    expect(reloaded.forRoom('dev').map((m) => m.client_id)).toEqual(['b1'])
    expect(reloaded.forRoom('general')).toEqual([])
    expect(changes).toEqual(['general', 'general'])
    expect([...storage.data.keys()]).toEqual(['chat.outbox.1'])
  })

  it('keeps the written order on load and survives a corrupt store', () => {
    const storage = new MemoryStorage()
    const first = new Outbox(storage, () => new Promise(() => {}), () => {})
    first.load(alice)
    first.add(pending('late', 'general', '2026-11-21T10:00:02.000Z'))
    first.add(pending('early', 'general', '2026-11-21T10:00:01.000Z'))
    const again = new Outbox(storage, () => new Promise(() => {}), () => {})
    again.load(alice)
    expect(again.forRoom('general').map((m) => m.client_id)).toEqual(['early', 'late'])
    storage.setItem('chat.outbox.1', '{not json')
    const broken = new Outbox(storage, () => new Promise(() => {}), () => {})
    broken.load(alice)
    expect(broken.rooms()).toEqual([])
  })

  it('gives people a readable reason', () => {
    expect(humanSendError(new PushError('rate_limited', 'x'))).toBe('Too many messages, slow down')
    expect(humanSendError(new PushError('timeout', 'x'))).toBe('No answer from the server')
    expect(humanSendError(new PushError('weird', 'The detail'))).toBe('The detail')
  })
})
