import { describe, expect, it } from 'vitest'
import { reconnect, seqs, testClients } from './testing/clients'
import { FakeEvents, FakeServer, bob, carol, flush } from './testing/fakes'

const { started } = testClients()

describe('rooms and messages', () => {
  it('a new room gets the newest 50 and has_more; loadOlder pages back', async () => {
    const server = new FakeServer()
    for (let i = 0; i < 120; i++) server.store('general', bob, `m${i + 1}`)
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    expect(server.sent('join')).toEqual([expect.not.objectContaining({ since: expect.anything() })])
    let view = client.room('general').getState()
    expect(view.status).toBe('joined')
    expect(view.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i))
    expect(view.hasMore).toBe(true)
    await client.loadOlder('general')
    await flush()
    expect(server.sent('history').at(-1)).toMatchObject({ before: 71, limit: 50 })
    await client.loadOlder('general')
    await flush()
    view = client.room('general').getState()
    expect(view.messages.map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    expect(view.hasMore).toBe(false)
  })

  it('rejoins every open room with since = highest seq held, and pages while has_more', async () => {
    const server = new FakeServer()
    server.sinceCap = 3
    server.store('general', bob, 'one')
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    client.open('empty')
    await flush()
    server.dropLive = true
    for (let i = 0; i < 7; i++) server.store('general', bob, `later ${i}`)
    server.dropLive = false
    await reconnect(server)
    const joins = server.sockets[1]!.framesOf('join')
    expect(joins.filter((j) => j.room === 'empty')).toEqual([expect.not.objectContaining({ since: expect.anything() })])
    expect(joins.filter((j) => j.room === 'general').map((j) => j.since)).toEqual([1, 4, 7])
    expect(seqs(client, 'general')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(client.room('general').getState().status).toBe('joined')
    expect(server.sent('history')).toEqual([])
  })

  it('drops a seq it already has (live frame after joined, twice)', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    const message = server.store('general', bob, 'hi')
    server.socket.push({ type: 'message', room: 'general', message })
    server.socket.push({ type: 'message', room: 'general', message: { ...message, body: 'changed' } })
    expect(client.room('general').getState().messages).toEqual([message])
  })

  it('fills a gap left by a dropped live frame with history', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'one')
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.dropLive = true
    for (let i = 0; i < 130; i++) server.store('general', carol, `lost ${i}`)
    server.dropLive = false
    server.store('general', bob, 'seen')
    await flush()
    const histories = server.sent('history')
    expect(histories[0]).toMatchObject({ room: 'general', before: 132, limit: 100 })
    expect(histories[1]).toMatchObject({ before: 32, limit: 30 })
    expect(seqs(client, 'general')).toEqual(Array.from({ length: 132 }, (_, i) => i + 1))
  })

  it('fills a gap at the start of a room that was empty when joined', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('fresh')
    await flush()
    expect(client.room('fresh').getState()).toMatchObject({ status: 'joined', hasMore: false, messages: [] })
    server.dropLive = true
    server.store('fresh', carol, 'lost 1')
    server.store('fresh', carol, 'lost 2')
    server.dropLive = false
    server.store('fresh', bob, 'seen')
    await flush()
    expect(server.sent('history')[0]).toMatchObject({ room: 'fresh', before: 3, limit: 2 })
    expect(seqs(client, 'fresh')).toEqual([1, 2, 3])
  })

  it('fetches the newest messages it missed when a rooms answer shows more than it holds', async () => {
    // Frames dropped while the channel layer was away (a Redis restart), and
    // nothing sent since to reveal the gap: the room list's last_seq does.
    const server = new FakeServer()
    server.store('general', bob, 'one')
    const env = server.env()
    const client = await started(server, env)
    server.acceptAll()
    client.open('general')
    await flush()
    server.dropLive = true
    server.store('general', carol, 'lost 1')
    server.store('general', carol, 'lost 2')
    server.dropLive = false
    expect(seqs(client, 'general')).toEqual([1])
    ;(env.window as FakeEvents).fire('focus') // the tab comes back: rooms are asked for again
    await flush()
    expect(server.sent('history').at(-1)).toMatchObject({ room: 'general', before: 4, limit: 2 })
    expect(seqs(client, 'general')).toEqual([1, 2, 3])
  })
})
