import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './env'
import type { RequestFrame, ServerFrame } from './protocol'
import { RoomsRefresh } from './roomsRefresh'
import { reconnect, testClients } from './testing/clients'
import { FakeEvents, FakeServer, bob, flush } from './testing/fakes'
import { ROOMS_REFRESH_MS } from './timing'

describe('asking for the room list, in the client', () => {
  const { started } = testClients()

  it('asks for the room list again about every minute and when the tab regains focus', async () => {
    const server = new FakeServer()
    const env = server.env()
    await started(server, env)
    server.acceptAll()
    await flush()
    expect(server.sent('rooms')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(server.sent('rooms')).toHaveLength(2)
    ;(env.window as FakeEvents).fire('focus')
    await flush()
    expect(server.sent('rooms')).toHaveLength(3)
  })

  it('asks for rooms when a message arrives for a room it does not list, coalescing the asks', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.holdRooms = true
    server.acceptAll()
    client.open('general')
    await flush()
    expect(server.sent('rooms')).toHaveLength(1) // on connect, not answered yet
    // A message for a room the list does not hold (a v2 server adds rooms unasked): ask again, once.
    const alien = { id: 99, room: 'brand-new', seq: 1, author: bob, body: 'hi', created_at: '2026-11-21T10:00:00Z', client_id: 'x' }
    server.socket.push({ type: 'message', room: 'brand-new', message: alien })
    server.socket.push({ type: 'message', room: 'other-new', message: { ...alien, id: 100, room: 'other-new' } })
    await flush()
    expect(server.sent('rooms')).toHaveLength(1)
    server.holdRooms = false
    await vi.advanceTimersByTimeAsync(10_000) // the first ask times out; the one held back goes
    expect(server.sent('rooms')).toHaveLength(2)
    // Listed now: a message there asks nothing.
    server.store('general', bob, 'known room')
    await flush()
    expect(server.sent('rooms')).toHaveLength(2)
    await reconnect(server)
    expect(server.sent('rooms')).toHaveLength(3)
  })
})

describe('RoomsRefresh', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function refresh(visibilityState = 'visible') {
    const asked: Array<(frame: ServerFrame) => void> = []
    const answers: unknown[] = []
    const window = new FakeEvents()
    const document = new FakeEvents()
    document.visibilityState = visibilityState
    const rooms = new RoomsRefresh(
      {
        request: (_frame: RequestFrame) => new Promise<ServerFrame>((resolve) => asked.push(resolve)),
        connected: () => true,
        answered: (infos) => answers.push(infos),
      },
      { clock: systemClock, window, document },
    )
    return { rooms, asked, answers, window, document }
  }

  it('a hidden tab coming back to focus asks nothing; a visible one asks', async () => {
    const hidden = refresh('hidden')
    hidden.document.fire('visibilitychange')
    expect(hidden.asked).toHaveLength(0)
    const shown = refresh()
    shown.window.fire('focus')
    expect(shown.asked).toHaveLength(1)
    shown.rooms.dispose()
    shown.window.fire('focus')
    expect(shown.asked).toHaveLength(1)
  })

  it('reset drops an ask held back and the asking every minute; the next request starts it again', async () => {
    const { rooms, asked, answers } = refresh()
    rooms.request()
    rooms.request()
    rooms.reset()
    asked[0]!({ type: 'rooms', rooms: [] } as unknown as ServerFrame)
    await flush()
    expect(answers).toEqual([[]])
    expect(asked).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(ROOMS_REFRESH_MS)
    expect(asked).toHaveLength(1)
    rooms.request()
    asked[1]!({ type: 'rooms', rooms: [] } as unknown as ServerFrame)
    await vi.advanceTimersByTimeAsync(ROOMS_REFRESH_MS)
    expect(asked).toHaveLength(3)
  })
})
