import { describe, expect, it, vi } from 'vitest'
import { reconnect, seqs, testClients } from './testing/clients'
import { FakeServer, MemoryStorage, alice, bob, flush } from './testing/fakes'

const { started } = testClients()

describe('sending (outbox)', () => {
  it('shows a message as sending at once, then moves it to the log on sent', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    client.send('general', '  hello  ')
    const pending = client.room('general').getState().pending
    expect(pending).toEqual([expect.objectContaining({ body: 'hello', status: 'sending', author: alice, client_id: 'cid-1' })])
    await flush()
    const view = client.room('general').getState()
    expect(view.pending).toEqual([])
    expect(view.messages).toEqual([expect.objectContaining({ body: 'hello', client_id: 'cid-1', seq: 1 })])
    expect(server.sent('send')).toHaveLength(1)
  })

  it('written offline: stays sending and goes out once when the connection is back', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.socket.drop(1006)
    expect(client.room('general').getState().status).toBe('joining')
    client.send('general', 'one')
    client.send('general', 'two')
    await vi.advanceTimersByTimeAsync(30_000) // offline well past the request timeout
    expect(client.room('general').getState().pending.map((p) => p.status)).toEqual(['sending', 'sending'])
    expect(server.sent('send')).toEqual([])
    await reconnect(server)
    expect(server.sent('send').map((f) => f.body)).toEqual(['one', 'two'])
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['one', 'two'])
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('sends each message once per socket, even while a long catch-up joins page by page', async () => {
    const server = new FakeServer()
    server.sinceCap = 2
    server.store('general', bob, 'first')
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.socket.drop(1006)
    for (let i = 0; i < 6; i++) server.store('general', bob, `while away ${i}`)
    client.send('general', 'queued')
    server.holdSends = true
    await reconnect(server)
    expect(server.sockets.at(-1)!.framesOf('join').map((j) => j.since)).toEqual([1, 3, 5])
    expect(server.sent('send').map((f) => f.client_id)).toEqual(['cid-1'])
  })

  it('resends an unacknowledged message after reconnect with its original client_id, and never after the ack', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.answering = false // the send is stored nowhere and never answered
    client.send('general', 'lost in transit')
    await flush()
    server.answering = true
    await reconnect(server)
    const sends = server.sent('send')
    expect(sends.map((f) => f.client_id)).toEqual(['cid-1', 'cid-1'])
    expect(seqs(client, 'general')).toEqual([1])
    await reconnect(server)
    await reconnect(server)
    expect(server.sent('send')).toHaveLength(2)
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('the server dedups a resend: acked on the second socket, shown once', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    // Stored, but the socket dies before the live frame and the `sent` arrive.
    server.dropLive = true
    const original = server.socket
    original.onmessage = null
    client.send('general', 'once')
    await flush()
    server.dropLive = false
    await reconnect(server)
    expect(server.log.get('general')).toHaveLength(1)
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['once'])
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('a request timeout is not a failure: it stays sending and goes again with the same client_id', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.holdSends = true
    client.send('general', 'slow')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(client.room('general').getState().pending).toEqual([expect.objectContaining({ status: 'sending' })])
    server.holdSends = false
    await vi.advanceTimersByTimeAsync(1_000)
    expect(server.sent('send').map((f) => f.client_id)).toEqual(['cid-1', 'cid-1'])
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['slow'])
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('rate_limited: stays sending and goes out by itself, in the order written', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.sendErrors = ['rate_limited', 'rate_limited']
    client.send('general', 'first')
    client.send('general', 'second')
    await flush()
    expect(client.room('general').getState().pending.map((p) => p.status)).toEqual(['sending', 'sending'])
    await vi.advanceTimersByTimeAsync(5_000)
    expect(server.sent('send').map((f) => f.body)).toEqual(['first', 'first', 'first', 'second'])
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['first', 'second'])
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('an error that waiting will not fix marks it failed with a human error; it is not resent by itself', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.sendErrors = ['invalid_body']
    client.send('general', 'refused')
    await flush()
    expect(client.room('general').getState().pending).toEqual([
      expect.objectContaining({ status: 'failed', error: 'A message must be 1 to 4,000 characters' }),
    ])
    await reconnect(server)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(server.sent('send')).toHaveLength(1)
    client.retry('general', 'cid-1')
    await flush()
    expect(server.sent('send').map((f) => f.client_id)).toEqual(['cid-1', 'cid-1'])
  })

  it('survives a reload: the next page load resends what was unacknowledged', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    const first = await started(server, { storage })
    server.acceptAll()
    first.open('general')
    await flush()
    server.answering = false
    first.send('general', 'do not lose me')
    await flush()
    first.dispose()
    server.answering = true
    const second = await started(server, { storage })
    expect(second.room('general').getState().pending).toEqual([
      expect.objectContaining({ body: 'do not lose me', client_id: 'cid-1' }),
    ])
    server.acceptAll()
    await flush()
    expect(server.sent('send').map((f) => f.client_id)).toEqual(['cid-1', 'cid-1'])
    expect(second.room('general').getState().messages.map((m) => m.body)).toEqual(['do not lose me'])
    expect(storage.data.size).toBe(0)
  })

  it('sends typing through the throttle, and active: false on send', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    client.composerInput('general', 'h')
    client.composerInput('general', 'hi')
    client.send('general', 'hi')
    client.composerInput('general', '')
    expect(server.sent('typing')).toEqual([
      { type: 'typing', room: 'general', active: true },
      { type: 'typing', room: 'general', active: false },
    ])
  })
})
