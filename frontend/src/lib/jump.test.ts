// A room's log opened at one message (a search result): the slice around it,
// paging forward to the live end, and live messages kept aside meanwhile.
import { describe, expect, it, vi } from 'vitest'
import { testClients } from './testing/clients'
import { FakeServer, alice, bob, flush } from './testing/fakes'
import type { ChatClient } from './types'

const { connected } = testClients()

function seeded(count: number, revisions = false) {
  const server = new FakeServer()
  server.revisions = revisions
  for (let i = 1; i <= count; i++) server.store('general', i % 2 ? bob : alice, `message ${i}`)
  return server
}

const view = (client: ChatClient) => client.room('general').getState()
const seqs = (client: ChatClient) => view(client).messages.map((m) => m.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('jumpTo', () => {
  it('opens the room at an old message: the slice around it, detached from the live end', async () => {
    const server = seeded(200)
    const client = await connected(server)
    await expect(client.jumpTo('general', 40)).resolves.toBe(true)
    expect(seqs(client)).toEqual(range(16, 65))
    expect(view(client)).toMatchObject({ hasMore: true, hasNewer: true, target: { seq: 40 } })
    const [before, after] = server.sent('history')
    expect(before).toMatchObject({ before: 41, limit: 25 })
    expect(after).toMatchObject({ after: 40, limit: 25 })
  })

  it('joins a room not open yet first, then shows the message', async () => {
    const server = new FakeServer()
    for (let i = 1; i <= 200; i++) server.store('elsewhere', bob, `message ${i}`)
    const client = await connected(server)
    expect(server.sent('join').some((f) => f.room === 'elsewhere')).toBe(false)
    const jumped = client.jumpTo('elsewhere', 30)
    await flush()
    await expect(jumped).resolves.toBe(true)
    expect(client.room('elsewhere').getState()).toMatchObject({ status: 'joined', hasNewer: true, target: { seq: 30 } })
  })

  it('waits for the join of a room announced earlier as not mine (shown as left until joined)', async () => {
    const server = new FakeServer()
    for (let i = 1; i <= 200; i++) server.store('announced', bob, `message ${i}`)
    const client = await connected(server)
    server.socket.push({ type: 'room', room: { name: 'announced', last_seq: 200, member: false, unread: 0, online: 1 } })
    await flush()
    expect(client.room('announced').getState().status).toBe('error')
    client.open('announced')
    const jumped = client.jumpTo('announced', 30)
    await flush()
    await expect(jumped).resolves.toBe(true)
    expect(client.room('announced').getState()).toMatchObject({ status: 'joined', hasNewer: true, target: { seq: 30 } })
  })

  it('keeps a live message aside while detached, and joins it on in order once paging forward reaches the end', async () => {
    const server = seeded(120)
    const client = await connected(server)
    await client.jumpTo('general', 10)
    server.store('general', bob, 'live one')
    await flush()
    expect(seqs(client)).toEqual(range(1, 35))
    expect(server.sent('history').length).toBe(2) // no gap filling towards the live end
    await client.loadNewer('general')
    expect(seqs(client)).toEqual(range(1, 85))
    expect(view(client).hasNewer).toBe(true)
    await client.loadNewer('general')
    expect(seqs(client)).toEqual(range(1, 121))
    expect(view(client).hasNewer).toBe(false)
    // Live again: the next message is appended as usual.
    server.store('general', bob, 'after')
    await flush()
    expect(seqs(client).at(-1)).toBe(122)
  })

  it('a message of the held page is only made the target: nothing is asked', async () => {
    const server = seeded(30)
    const client = await connected(server)
    const first = view(client).target
    await expect(client.jumpTo('general', 28)).resolves.toBe(true)
    expect(server.sent('history')).toEqual([])
    expect(view(client).target).toMatchObject({ seq: 28 })
    await client.jumpTo('general', 28)
    expect(view(client).target!.id).not.toBe(first?.id)
    expect(view(client).hasNewer).toBe(false)
  })

  it('near the end, the slice reaches it and stays live', async () => {
    const server = seeded(200)
    server.joinPage = 10
    const client = await connected(server)
    await client.jumpTo('general', 180)
    expect(seqs(client)).toEqual(range(156, 200))
    expect(view(client).hasNewer).toBe(false)
  })

  it('jumpToLatest goes back to the newest page with what came meanwhile', async () => {
    const server = seeded(200)
    const client = await connected(server)
    await client.jumpTo('general', 20)
    server.store('general', bob, 'live one')
    await flush()
    await client.jumpToLatest('general')
    expect(seqs(client)).toEqual(range(152, 201))
    expect(view(client)).toMatchObject({ hasNewer: false, hasMore: true })
  })

  it('a reconnect while detached catches up aside (by revision), without filling towards the end', async () => {
    const server = seeded(120, true)
    const client = await connected(server)
    await client.jumpTo('general', 10)
    server.socket.drop(1006)
    server.store('general', bob, 'while away')
    while (server.sockets.length === 1) await vi.advanceTimersByTimeAsync(50)
    server.acceptAll()
    await flush()
    expect(view(client)).toMatchObject({ status: 'joined', hasNewer: true })
    expect(seqs(client)).toEqual(range(1, 35))
    await client.loadNewer('general')
    await client.loadNewer('general')
    expect(seqs(client)).toEqual(range(1, 121))
  })

  it('an edit of a message in the slice applies; one above it waits for its page', async () => {
    const server = seeded(120, true)
    const client = await connected(server)
    await client.jumpTo('general', 10)
    server.change('general', 5, () => ({ body: 'edited five' }))
    server.change('general', 100, () => ({ body: 'edited hundred' }))
    await flush()
    expect(view(client).messages.find((m) => m.seq === 5)!.body).toBe('edited five')
    expect(view(client).messages.some((m) => m.seq === 100)).toBe(false)
    await client.loadNewer('general')
    await client.loadNewer('general')
    expect(view(client).messages.find((m) => m.seq === 100)!.body).toBe('edited hundred')
  })

  it('one’s own message sent while detached is acknowledged (set aside, not lost)', async () => {
    const server = seeded(120)
    const client = await connected(server)
    await client.jumpTo('general', 10)
    client.send('general', 'mine')
    await flush()
    expect(view(client).pending).toEqual([])
    await client.jumpToLatest('general')
    expect(view(client).messages.at(-1)).toMatchObject({ body: 'mine', author: alice })
  })
})
