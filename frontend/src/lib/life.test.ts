// The client against a fake server with revisions: every change reaches it,
// live, through `changes` when a live frame skips a revision, or on rejoin.
import { describe, expect, it, vi } from 'vitest'
import { testClients } from './testing/clients'
import { FakeServer, MemoryStorage, alice, bob, flush } from './testing/fakes'
import type { ChatClient } from './types'

const { started, connected } = testClients()

async function joined(server: FakeServer, room = 'general') {
  server.revisions = true
  const client = await started(server)
  server.acceptAll()
  client.open(room)
  await flush()
  return client
}

const held = (client: ChatClient, room = 'general') => client.room(room).getState().messages

describe('the life of a message', () => {
  it('applies an edit, a reaction and a delete live, in place', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'one')
    server.store('general', bob, 'two')
    const client = await joined(server)
    server.change('general', 1, () => ({ body: 'one!', edited_at: '2026-11-21T11:00:00.000000Z' }))
    server.react('general', 2, bob, '👍', true)
    server.change('general', 2, () => ({ body: '', deleted: true, reactions: [] }))
    await flush()
    expect(held(client).map((m) => [m.seq, m.body, m.deleted])).toEqual([[1, 'one!', false], [2, '', true]])
    expect(server.sent('changes')).toEqual([])
  })

  it('asks changes from the revision held when a live frame skips one, and applies what it missed', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'one')
    const client = await joined(server)
    server.dropUpdates = true
    server.change('general', 1, () => ({ body: 'edited while the frame was lost' }))
    server.dropUpdates = false
    server.store('general', bob, 'two')
    await flush()
    expect(server.sent('changes')).toEqual([expect.objectContaining({ room: 'general', since_rev: 1 })])
    expect(held(client).map((m) => m.body)).toEqual(['edited while the frame was lost', 'two'])
  })

  it('rejoins with since_rev after a reconnect and ends with the server’s state, paging while has_more', async () => {
    const server = new FakeServer()
    server.sinceCap = 2
    server.store('general', bob, 'one')
    server.store('general', bob, 'two')
    const client = await joined(server)
    server.socket.drop(1006)
    // While this client is away: an edit, a reaction, a delete and new messages.
    server.change('general', 1, () => ({ body: 'one (edited)', edited_at: '2026-11-21T11:00:00.000000Z' }))
    server.react('general', 1, bob, '🎉', true)
    server.change('general', 2, () => ({ body: '', deleted: true }))
    server.store('general', bob, 'three')
    server.store('general', bob, 'four')
    while (server.sockets.length === 1) await vi.advanceTimersByTimeAsync(50)
    server.acceptAll()
    await flush()
    expect(server.sent('join').at(-1)).toEqual(expect.objectContaining({ since_rev: 2 }))
    expect(server.sent('changes').length).toBeGreaterThan(0)
    expect(held(client)).toEqual(server.log.get('general'))
  })

  it('leaves out changes to messages older than the oldest held; loading that page brings them as they are', async () => {
    const server = new FakeServer()
    for (let i = 1; i <= 200; i++) server.store('general', bob, `m${i}`)
    const client = await joined(server)
    server.change('general', 5, () => ({ body: 'm5, edited live' }))
    await flush()
    expect(held(client)[0]!.seq).toBe(151)
    server.socket.drop(1006)
    server.change('general', 7, () => ({ body: 'm7, edited while away' }))
    server.change('general', 180, () => ({ body: 'm180, edited while away' }))
    while (server.sockets.length === 1) await vi.advanceTimersByTimeAsync(50)
    server.acceptAll()
    await flush()
    expect(held(client).map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i))
    expect(held(client).find((m) => m.seq === 180)!.body).toBe('m180, edited while away')
    await client.reveal('general', 5)
    expect(held(client).map((m) => m.seq)).toEqual(Array.from({ length: held(client).length }, (_, i) => held(client)[0]!.seq + i))
    expect(held(client).find((m) => m.seq === 7)!.body).toBe('m7, edited while away')
    expect(held(client).find((m) => m.seq === 5)!.body).toBe('m5, edited live')
  })

  it('an edit and a reaction made offline show at once and are sent once on reconnect', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'hello')
    server.store('general', alice, 'mine')
    const client = await joined(server)
    server.socket.drop(1006)
    client.change('general', 2, { kind: 'edit', body: 'mine, edited' })
    client.change('general', 1, { kind: 'react', emoji: '👍', active: true })
    expect(client.room('general').getState().changes.map((c) => c.status)).toEqual(['sending', 'sending'])
    while (server.sockets.length === 1) await vi.advanceTimersByTimeAsync(50)
    server.acceptAll()
    await flush()
    expect(server.sent('edit')).toEqual([expect.objectContaining({ seq: 2, body: 'mine, edited' })])
    expect(server.sent('react')).toEqual([expect.objectContaining({ seq: 1, emoji: '👍', active: true })])
    expect(client.room('general').getState().changes).toEqual([])
    expect(held(client)).toEqual(server.log.get('general'))
    expect(held(client)[0]!.reactions).toEqual([{ emoji: '👍', users: [alice] }])
  })

  it('survives a reload: the next page load sends the changes made offline', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'hello')
    const storage = new MemoryStorage()
    server.revisions = true
    const first = await started(server, { storage })
    first.change('general', 1, { kind: 'react', emoji: '🎉', active: true })
    first.dispose()
    expect(server.sent('react')).toEqual([])
    const second = await connected(server, { storage })
    expect(server.sent('react')).toEqual([expect.objectContaining({ room: 'general', seq: 1, emoji: '🎉', active: true })])
    expect(second.room('general').getState().messages[0]!.reactions).toEqual([{ emoji: '🎉', users: [alice] }])
    expect(storage.data.size).toBe(0)
  })

  it('sends a reply with the seq it answers and shows its excerpt while sending', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'a question?')
    const client = await joined(server)
    server.holdSends = true
    client.send('general', 'an answer', held(client)[0])
    await flush()
    expect(server.sent('send')).toEqual([expect.objectContaining({ body: 'an answer', reply_to: 1 })])
    expect(client.room('general').getState().pending[0]!.reply_to).toEqual({ seq: 1, author: bob, excerpt: 'a question?' })
  })

  it('counts unread mentions of me live outside the room being read, and clears them when read', async () => {
    const server = new FakeServer()
    server.store('general', alice, 'hi')
    server.store('random', alice, 'hi')
    const client = await joined(server)
    client.open('random')
    client.focus('random')
    await flush()
    server.store('general', bob, 'no mention here')
    const mention = server.store('general', bob, '@alice look')
    server.socket.push({ type: 'message', room: 'general', message: { ...mention, seq: 4, id: 99, rev: 4, mentions: [alice.id] } })
    await flush()
    expect(client.rooms.getState().find((r) => r.name === 'general')).toMatchObject({ unread: 3 })
    expect(client.rooms.getState().find((r) => r.name === 'general')).toMatchObject({ mentions: 1 })
    client.focus('general')
    expect(client.rooms.getState().find((r) => r.name === 'general')).toMatchObject({ unread: 0, mentions: 0 })
  })

  it('loads older pages until the original of a reply is held', async () => {
    const server = new FakeServer()
    for (let i = 1; i <= 200; i++) server.store('general', bob, `m${i}`)
    const client = await joined(server)
    expect(held(client)[0]!.seq).toBe(151)
    await expect(client.reveal('general', 20)).resolves.toBe(true)
    expect(held(client)[0]!.seq).toBeLessThanOrEqual(20)
    await expect(client.reveal('general', 5000)).resolves.toBe(false)
  })
})
