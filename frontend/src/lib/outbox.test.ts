import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { StorageLike } from './env'
import { systemClock } from './env'
import { Outbox, humanSendError, type OutboxHost } from './outbox'
import { PushError } from './push'
import { MemoryStorage, alice, flush } from './testing/fakes'
import type { PendingMessage } from './types'

const pending = (client_id: string, room = 'general', created_at = '2026-11-21T10:00:00.000Z'): PendingMessage => ({
  client_id, room, body: `body ${client_id}`, author: alice, created_at, status: 'sending', error: null,
})

const never = () => new Promise<unknown>(() => {})

function outbox(storage: StorageLike | null, host: Partial<OutboxHost> = {}) {
  return new Outbox(
    storage,
    { transmit: never, changed: () => {}, ready: () => true, rejoin: () => {}, ...host },
    systemClock,
    () => 0.5,
  )
}

/** A server that answers each send from a script: 'ok' or an error code, then 'ok' for ever. */
function scriptedServer(script: string[]) {
  const sends: string[] = []
  const transmit = (m: PendingMessage) => {
    sends.push(m.client_id)
    const answer = script.shift() ?? 'ok'
    return answer === 'ok' ? Promise.resolve({}) : Promise.reject(new PushError(answer, answer))
  }
  return { sends, transmit }
}

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('Outbox', () => {
  it('persists per user, one entry per message, so two tabs do not clobber each other', () => {
    const storage = new MemoryStorage()
    const changes: string[] = []
    const tabA = outbox(storage, { changed: (room) => changes.push(room) })
    const tabB = outbox(storage)
    tabA.load(alice)
    tabB.load(alice)
    tabA.add(pending('a1'))
    tabB.add(pending('b1', 'dev'))
    tabA.acknowledge('a1')
    const reloaded = outbox(storage)
    reloaded.load(alice)
    expect(reloaded.forRoom('dev').map((m) => m.client_id)).toEqual(['b1'])
    expect(reloaded.forRoom('general')).toEqual([])
    expect(changes).toEqual(['general', 'general'])
    expect([...storage.data.keys()]).toEqual(['chat.outbox.1'])
  })

  it('keeps the written order on load, also between what it holds and what it loads, and survives a corrupt store', () => {
    const storage = new MemoryStorage()
    const first = outbox(storage)
    first.load(alice)
    first.add(pending('late', 'general', '2026-11-21T10:00:02.000Z'))
    first.add(pending('early', 'general', '2026-11-21T10:00:01.000Z'))
    const again = outbox(storage)
    again.add(pending('latest', 'general', '2026-11-21T10:00:03.000Z'))
    again.load(alice)
    expect(again.forRoom('general').map((m) => m.client_id)).toEqual(['early', 'late', 'latest'])
    storage.setItem('chat.outbox.1', '{not json')
    const broken = outbox(storage)
    broken.load(alice)
    expect(broken.rooms()).toEqual([])
  })

  it('sends one message of a room at a time, in the order written; rooms do not wait for each other', async () => {
    const sends: string[] = []
    const answers = new Map<string, () => void>()
    const box = outbox(null, {
      transmit: (m) => {
        sends.push(m.client_id)
        return new Promise((resolve) => answers.set(m.client_id, () => resolve({})))
      },
    })
    box.add(pending('g1', 'general', '2026-11-21T10:00:01.000Z'))
    box.add(pending('g2', 'general', '2026-11-21T10:00:02.000Z'))
    box.add(pending('d1', 'dev', '2026-11-21T10:00:03.000Z'))
    box.flush()
    box.flush()
    expect(sends).toEqual(['g1', 'd1'])
    answers.get('g1')!()
    await flush()
    expect(sends).toEqual(['g1', 'd1', 'g2'])
    expect(box.forRoom('general').map((m) => m.client_id)).toEqual(['g2'])
  })

  it('under the rate limit: stays sending, waits a growing pause, then goes on in order with the same client_id', async () => {
    const server = scriptedServer(['ok', 'rate_limited', 'rate_limited', 'ok', 'ok'])
    const changed: PendingMessage[][] = []
    const box = outbox(null, { transmit: server.transmit, changed: () => changed.push(box.forRoom('general')) })
    for (const id of ['m1', 'm2', 'm3']) box.add(pending(id, 'general', `2026-11-21T10:00:0${id[1]}.000Z`))
    box.flush()
    await flush()
    expect(server.sends).toEqual(['m1', 'm2'])
    expect(box.forRoom('general').map((m) => [m.client_id, m.status])).toEqual([['m2', 'sending'], ['m3', 'sending']])
    expect(box.waiting).toBe(true)

    // A new message does not overtake the waiting one, nor does a flush cut the pause short.
    box.add(pending('m4', 'general', '2026-11-21T10:00:04.000Z'))
    box.flush()
    await vi.advanceTimersByTimeAsync(749) // first pause: 1 s ceiling, 0.75 s at random 0.5
    expect(server.sends).toEqual(['m1', 'm2'])
    await vi.advanceTimersByTimeAsync(1)
    expect(server.sends).toEqual(['m1', 'm2', 'm2'])
    await vi.advanceTimersByTimeAsync(1_499) // second pause: 2 s ceiling, 1.5 s
    expect(server.sends).toEqual(['m1', 'm2', 'm2'])
    await vi.advanceTimersByTimeAsync(1)
    expect(server.sends).toEqual(['m1', 'm2', 'm2', 'm2', 'm3', 'm4'])
    expect(box.forRoom('general')).toEqual([])
    expect(changed.flat().every((m) => m.status === 'sending')).toBe(true)
  })

  it('fails only what waiting will not fix, and lets the room go on past it', async () => {
    const server = scriptedServer(['invalid_body', 'ok'])
    const box = outbox(null, { transmit: server.transmit })
    box.add(pending('bad', 'general', '2026-11-21T10:00:01.000Z'))
    box.add(pending('good', 'general', '2026-11-21T10:00:02.000Z'))
    box.flush()
    await flush()
    expect(server.sends).toEqual(['bad', 'good'])
    expect(box.forRoom('general')).toEqual([
      expect.objectContaining({ client_id: 'bad', status: 'failed', error: 'A message must be 1 to 4,000 characters' }),
    ])
    expect(box.waiting).toBe(false)
  })

  it('a lost socket resends on the next one; not_joined asks for the room again', async () => {
    const rejoined: string[] = []
    const server = scriptedServer(['disconnected', 'not_joined'])
    const box = outbox(null, { transmit: server.transmit, rejoin: (room) => rejoined.push(room) })
    box.add(pending('m1'))
    box.flush()
    await flush()
    expect(box.forRoom('general')[0]!.status).toBe('sending')
    box.disconnected()
    box.flush()
    await flush()
    expect(rejoined).toEqual(['general'])
    box.flush()
    await flush()
    expect(server.sends).toEqual(['m1', 'm1', 'm1'])
    expect(box.forRoom('general')).toEqual([])
  })

  it('sends nothing to a room that is not ready, and fails a room that cannot be joined', () => {
    const server = scriptedServer([])
    const box = outbox(null, { transmit: server.transmit, ready: (room) => room !== 'closed' })
    box.add(pending('c1', 'closed'))
    box.flush()
    expect(server.sends).toEqual([])
    box.failRoom('closed', 'You left this room')
    expect(box.forRoom('closed')).toEqual([expect.objectContaining({ status: 'failed', error: 'You left this room' })])
  })

  it('gives people a readable reason', () => {
    expect(humanSendError(new PushError('rate_limited', 'x'))).toBe('Too many messages, slow down')
    expect(humanSendError(new PushError('timeout', 'x'))).toBe('No answer from the server')
    expect(humanSendError(new PushError('weird', 'The detail'))).toBe('The detail')
  })
})
