import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './env'
import { Socket, type SocketHandlers } from './socket'
import { FakeEvents, fakeSockets } from './testing/fakes'
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS } from './timing'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function setup(random = () => 0.5) {
  const fakes = fakeSockets()
  const win = new FakeEvents()
  const doc = new FakeEvents()
  const handlers = { onOpen: vi.fn(), onClose: vi.fn(), onFrame: vi.fn(), onUnauthorized: vi.fn() } satisfies SocketHandlers
  const socket = new Socket('ws://test/ws/', {
    WebSocket: fakes.WebSocket, clock: systemClock, random, window: win, document: doc,
  }, handlers)
  return { fakes, win, doc, handlers, socket }
}

/** setup(), connected, then closed by the server with `code`. */
function droppedWith(code: number, random = () => 0.5) {
  const parts = setup(random)
  parts.socket.connect()
  parts.fakes.last().accept()
  parts.fakes.last().drop(code)
  return parts
}

describe('Socket', () => {
  it('connects, and reports the status', () => {
    const { fakes, handlers, socket } = setup()
    expect(socket.connection.getState().status).toBe('idle')
    socket.connect()
    expect(socket.connection.getState()).toEqual({ status: 'connecting', retryAt: null })
    fakes.last().accept()
    expect(socket.connection.getState()).toEqual({ status: 'connected', retryAt: null })
    expect(handlers.onOpen).toHaveBeenCalledTimes(1)
  })

  it('reconnects after a backoff delay, longer each time, and says when', () => {
    const { fakes, handlers, socket } = setup(() => 0.999)
    socket.connect()
    fakes.last().accept()
    fakes.last().drop(1006)
    expect(handlers.onClose).toHaveBeenCalledTimes(1)
    expect(socket.connection.getState()).toEqual({ status: 'reconnecting', retryAt: Date.now() + 499 })
    vi.advanceTimersByTime(498)
    expect(fakes.sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(fakes.sockets).toHaveLength(2)
    expect(socket.connection.getState().status).toBe('reconnecting')
    fakes.last().drop(1006)
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 999)
    vi.advanceTimersByTime(999)
    fakes.last().accept()
    // A successful connect resets the backoff.
    fakes.last().drop(1006)
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 499)
  })

  it('reconnects at once when the network or the tab comes back', () => {
    const { fakes, win, doc, socket } = setup()
    socket.connect()
    fakes.last().accept()
    fakes.last().drop(1006)
    win.fire('online')
    expect(fakes.sockets).toHaveLength(2)
    fakes.last().drop(1006)
    doc.fire('visibilitychange')
    expect(fakes.sockets).toHaveLength(3)
    fakes.last().drop(1006)
    win.fire('focus')
    expect(fakes.sockets).toHaveLength(4)
    // Not twice while an attempt is under way.
    win.fire('online')
    expect(fakes.sockets).toHaveLength(4)
  })

  it('pings every 25 s and keeps a socket that answers', async () => {
    const { fakes, socket } = setup()
    socket.connect()
    const ws = fakes.last()
    ws.accept()
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS)
    const ping = ws.framesOf('ping')[0]!
    expect(ping.ref).toBeTruthy()
    ws.push({ type: 'pong', ref: ping.ref })
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS)
    expect(ws.framesOf('ping')).toHaveLength(2)
    expect(socket.connection.getState().status).toBe('connected')
  })

  it('declares the socket dead when no pong comes within 10 s, and reconnects', () => {
    const { fakes, handlers, socket } = setup()
    socket.connect()
    const ws = fakes.last()
    ws.accept()
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS - 1)
    expect(socket.connection.getState().status).toBe('connected')
    vi.advanceTimersByTime(1)
    expect(ws.closedByClient).not.toBeNull()
    expect(handlers.onClose).toHaveBeenCalledTimes(1)
    expect(socket.connection.getState().status).toBe('reconnecting')
    vi.advanceTimersByTime(250)
    expect(fakes.sockets).toHaveLength(2)
    // The dead socket's late close event changes nothing.
    ws.onclose?.({ code: 1006 })
    expect(handlers.onClose).toHaveBeenCalledTimes(1)
  })

  it('on 4401 stops reconnecting and reports the session over', () => {
    const { fakes, win, handlers, socket } = setup()
    socket.connect()
    fakes.last().accept()
    fakes.last().drop(4401)
    expect(handlers.onUnauthorized).toHaveBeenCalledTimes(1)
    expect(socket.connection.getState()).toEqual({ status: 'idle', retryAt: null })
    vi.advanceTimersByTime(120_000)
    win.fire('online')
    socket.reconnectNow()
    expect(fakes.sockets).toHaveLength(1)
  })

  it('on 4429 (too many sockets) waits at least 15 s before trying again', () => {
    const { fakes, handlers, socket } = setup(() => 0)
    socket.connect()
    fakes.last().accept()
    fakes.last().drop(4429)
    expect(handlers.onUnauthorized).not.toHaveBeenCalled()
    expect(socket.connection.getState()).toEqual({ status: 'reconnecting', retryAt: Date.now() + 15_000 })
    vi.advanceTimersByTime(14_999)
    expect(fakes.sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(fakes.sockets).toHaveLength(2)
  })

  it('on 1013 (fell behind) reconnects after the usual short backoff', () => {
    const { socket } = droppedWith(1013, () => 0.999)
    expect(socket.connection.getState()).toEqual({ status: 'reconnecting', retryAt: Date.now() + 499 })
  })

  it('on 1012 (the server restarts) comes back within 250 ms, then retries within a second while the server is away', () => {
    const { fakes, handlers, socket } = droppedWith(1012, () => 0.999)
    expect(handlers.onClose).toHaveBeenCalledTimes(1)
    expect(socket.connection.getState()).toEqual({ status: 'reconnecting', retryAt: Date.now() + 249 })
    vi.advanceTimersByTime(248)
    expect(fakes.sockets).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(fakes.sockets).toHaveLength(2)
    // No server took that try (a lone server is still restarting): again within a second,
    // however often it fails, not on the growing backoff.
    for (let n = 0; n < 10; n++) {
      fakes.last().drop(1006)
      expect(socket.connection.getState().retryAt).toBe(Date.now() + 999)
      vi.advanceTimersByTime(999)
    }
    fakes.last().accept()
    expect(socket.connection.getState().status).toBe('connected')
    // Connected again: a later failure backs off as usual, from the first step.
    fakes.last().drop(1006)
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 499)
  })

  it('after a 1012, a server away longer than 30 s is met with the usual backoff', () => {
    const { fakes, socket } = droppedWith(1012, () => 0.999)
    vi.advanceTimersByTime(249)
    let waited = 249
    while (waited < 30_000) {
      fakes.last().drop(1006)
      vi.advanceTimersByTime(999)
      waited += 999
    }
    fakes.last().drop(1006)
    // The retries of the window did not count toward the backoff: it starts at its first step.
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 499)
    vi.advanceTimersByTime(499)
    fakes.last().drop(1006)
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 999)
  })

  it('a try after a 1012 waits at least the backoff floor', () => {
    const { fakes, socket } = droppedWith(1012, () => 0)
    vi.advanceTimersByTime(0)
    fakes.last().drop(1006)
    expect(socket.connection.getState().retryAt).toBe(Date.now() + 250)
  })

  it('a request fails on timeout and hands replies to onFrame', async () => {
    const { fakes, handlers, socket } = setup()
    socket.connect()
    const ws = fakes.last()
    ws.accept()
    const p = socket.request({ type: 'rooms' })
    const check = expect(p).rejects.toMatchObject({ code: 'timeout' })
    vi.advanceTimersByTime(10_000)
    await check
    const q = socket.request({ type: 'rooms' })
    const ref = ws.framesOf('rooms')[1]!.ref
    ws.push({ type: 'rooms', ref, rooms: [] })
    await expect(q).resolves.toEqual({ type: 'rooms', ref, rooms: [] })
    expect(handlers.onFrame).toHaveBeenCalledWith({ type: 'rooms', ref, rooms: [] }, true)
  })

  it('a request made by hand during a reconnect goes out once the socket is back', async () => {
    const { fakes, socket } = setup()
    socket.connect()
    fakes.last().accept()
    fakes.last().drop(1006)
    const p = socket.requestWhenConnected({ type: 'search', query: 'lost' })
    vi.advanceTimersByTime(500)
    const ws = fakes.last()
    expect(ws.framesOf('search')).toHaveLength(0)
    ws.accept()
    const ref = ws.framesOf('search')[0]!.ref
    ws.push({ type: 'search', ref, messages: [], has_more: false })
    await expect(p).resolves.toEqual({ type: 'search', ref, messages: [], has_more: false })
  })

  it('a request made by hand fails as disconnected when no connection comes in time', async () => {
    const { fakes, socket } = setup()
    const p = socket.requestWhenConnected({ type: 'search', query: 'lost' }, 3_000)
    const check = expect(p).rejects.toMatchObject({ code: 'disconnected' })
    vi.advanceTimersByTime(3_000)
    await check
    // Connected later, it does not send the request that failed.
    socket.connect()
    fakes.last().accept()
    expect(fakes.last().framesOf('search')).toHaveLength(0)
  })

  it('ignores a malformed frame without closing', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { fakes, handlers, socket } = setup()
    socket.connect()
    fakes.last().accept()
    fakes.last().pushRaw('{"type": "message", "room": 5}')
    fakes.last().pushRaw('garbage')
    expect(handlers.onFrame).not.toHaveBeenCalled()
    expect(warn).toHaveBeenCalledTimes(2)
    expect(socket.connection.getState().status).toBe('connected')
    warn.mockRestore()
  })

  it('disconnect() closes for good and dispose() stops listening', () => {
    const { fakes, win, socket } = setup()
    socket.connect()
    fakes.last().accept()
    socket.disconnect()
    expect(fakes.last().closedByClient).toBe(1000)
    expect(socket.connection.getState().status).toBe('idle')
    vi.advanceTimersByTime(60_000)
    win.fire('online')
    expect(fakes.sockets).toHaveLength(1)
    socket.dispose()
    socket.connect()
    expect(fakes.sockets).toHaveLength(2)
  })
})
