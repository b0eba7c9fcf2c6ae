import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './env'
import type { ClientFrame } from './protocol'
import { PushError, PushTable } from './push'

describe('PushTable', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  const setup = () => {
    const sent: ClientFrame[] = []
    const table = new PushTable(systemClock, 10_000)
    const transmit = (frame: ClientFrame) => (sent.push(frame), true)
    return { sent, table, transmit }
  }

  it('resolves with the reply carrying its ref, and only that one', async () => {
    const { sent, table, transmit } = setup()
    const first = table.request({ type: 'rooms' }, transmit)
    const second = table.request({ type: 'ping' }, transmit)
    const [a, b] = sent as { ref: string }[]
    expect(a!.ref).not.toBe(b!.ref)
    expect(table.settle({ type: 'pong', ref: b!.ref })).toBe(true)
    await expect(second).resolves.toEqual({ type: 'pong', ref: b!.ref })
    expect(table.settle({ type: 'pong', ref: 'unknown' })).toBe(false)
    expect(table.settle({ type: 'rooms', ref: a!.ref, rooms: [] })).toBe(true)
    await expect(first).resolves.toMatchObject({ type: 'rooms' })
  })

  it('rejects with the error code of an error reply', async () => {
    const { sent, table, transmit } = setup()
    const p = table.request({ type: 'send', room: 'r', body: 'x', client_id: 'c' }, transmit)
    table.settle({ type: 'error', ref: (sent[0] as { ref: string }).ref, code: 'rate_limited', detail: 'slow' })
    await expect(p).rejects.toMatchObject({ name: 'PushError', code: 'rate_limited', message: 'slow' })
  })

  it('fails after the timeout when no answer comes', async () => {
    const { table, transmit } = setup()
    const p = table.request({ type: 'rooms' }, transmit)
    const check = expect(p).rejects.toMatchObject({ code: 'timeout' })
    vi.advanceTimersByTime(9_999)
    let settled = false
    p.catch(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    vi.advanceTimersByTime(1)
    await check
  })

  it('rejects at once when not connected, and all in flight on disconnect', async () => {
    const { table, transmit } = setup()
    await expect(table.request({ type: 'rooms' }, () => false)).rejects.toBeInstanceOf(PushError)
    const p = table.request({ type: 'rooms' }, transmit)
    table.rejectAll()
    await expect(p).rejects.toMatchObject({ code: 'disconnected' })
  })
})
