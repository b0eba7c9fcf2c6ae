import { describe, expect, it } from 'vitest'
import { reconnect, testClients } from './testing/clients'
import { FakeServer, alice, bob, carol, flush } from './testing/fakes'

const { started } = testClients()

describe('unread, presence, typing', () => {
  it('lists rooms on connect, joins every member room, counts live unread outside the focused room', async () => {
    const server = new FakeServer()
    server.store('general', alice, 'mine')
    server.store('random', alice, 'mine too')
    server.store('elsewhere', bob, 'not a member')
    const client = await started(server)
    server.acceptAll()
    await flush()
    expect(client.rooms.getState().map((r) => r.name)).toEqual(['elsewhere', 'general', 'random'])
    expect(server.sent('join').map((j) => j.room).sort()).toEqual(['general', 'random'])
    client.focus('general')
    server.store('general', bob, 'read here')
    server.store('random', bob, 'unread 1')
    server.store('random', bob, 'unread 2')
    server.store('random', alice, 'my own')
    const byName = () => Object.fromEntries(client.rooms.getState().map((r) => [r.name, r.unread]))
    expect(byName()).toEqual({ elsewhere: 0, general: 0, random: 2 })
    client.markRead('random', 5)
    client.markRead('random', 3)
    expect(byName().random).toBe(0)
    expect(server.sent('read')).toEqual([{ type: 'read', room: 'random', seq: 5 }])
  })

  it('an unasked room frame updates the list; member false (left on another tab) takes the room out here too', async () => {
    const server = new FakeServer()
    server.store('dev', alice, 'mine')
    const client = await started(server)
    server.acceptAll()
    await flush()
    const info = { name: 'fresh', last_seq: 0, member: false, unread: 0, online: 1 }
    server.socket.push({ type: 'room', room: info })
    expect(client.rooms.getState().map((r) => r.name)).toEqual(['dev', 'fresh'])
    server.socket.push({ type: 'room', room: { ...info, name: 'dev', last_seq: 1 } })
    expect(client.rooms.getState().find((r) => r.name === 'dev')!.member).toBe(false)
    expect(client.room('dev').getState()).toEqual(expect.objectContaining({ status: 'error', error: 'You left this room.' }))
    expect(client.presence('dev').getState()).toEqual([])
    await reconnect(server)
    expect(server.sockets.at(-1)!.framesOf('join')).toEqual([])
  })

  it('presence follows the snapshot and diffs; typing shows others and drops on their message', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    const ws = server.socket
    expect(client.presence('general').getState()).toEqual([alice])
    ws.push({ type: 'presence', room: 'general', joins: [carol, bob], leaves: [] })
    expect(client.presence('general').getState()).toEqual([alice, bob, carol])
    ws.push({ type: 'typing', room: 'general', user: bob, active: true })
    ws.push({ type: 'typing', room: 'general', user: carol, active: true })
    expect(client.typing('general').getState()).toEqual([bob, carol])
    server.store('general', bob, 'done typing')
    expect(client.typing('general').getState()).toEqual([carol])
    ws.push({ type: 'presence', room: 'general', joins: [], leaves: [carol] })
    expect(client.typing('general').getState()).toEqual([])
    expect(client.presence('general').getState()).toEqual([alice, bob])
    expect(client.rooms.getState().find((r) => r.name === 'general')!.online).toBe(2)
  })
})

describe('live listeners', () => {
  it('hear of each live message once: not again when the server sends it again, nor when the join brought it', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'before the join')
    const client = await started(server)
    const heard: string[] = []
    client.onLiveMessage((m) => heard.push(`${m.room}#${m.seq}`))
    server.acceptAll()
    client.open('general')
    await flush()
    const first = server.store('general', bob, 'live')
    const again = { type: 'message', room: 'general', message: first }
    server.socket.push(again) // after a Redis outage
    // Stored before the join, and sent live again by the catch-up.
    server.socket.push({ type: 'message', room: 'general', message: server.log.get('general')![0] })
    server.store('general', bob, 'next')
    server.socket.push({ type: 'message', room: 'random', message: { ...first, room: 'random' } }) // the same seq elsewhere
    expect(heard).toEqual(['general#2', 'general#3', 'random#2'])
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['before the join', 'live', 'next'])
  })
})

describe('rooms of version 2', () => {
  const dmInfo = (patch: Record<string, unknown> = {}) => ({
    name: 'dm-1-2', kind: 'dm', topic: '', owner: null, members: [alice, bob],
    last_seq: 0, member: true, unread: 0, online: 1, mentions: 0, ...patch,
  })

  it('a dm someone else opened enters the list, is joined, and counts their messages as unread', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    await flush()
    server.socket.push({ type: 'room', room: dmInfo() })
    await flush()
    expect(server.sent('join').map((j) => j.room)).toEqual(['dm-1-2'])
    server.store('dm-1-2', bob, 'psst')
    expect(client.rooms.getState().find((r) => r.name === 'dm-1-2')).toMatchObject({
      kind: 'dm', members: [alice, bob], unread: 1, member: true,
    })
  })

  it('a topic or member change updates the list without joining again', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    await flush()
    server.socket.push({ type: 'room', room: dmInfo() })
    await flush()
    server.socket.push({ type: 'room', room: dmInfo({ topic: 'lunch' }) })
    await flush()
    expect(client.rooms.getState().find((r) => r.name === 'dm-1-2')!.topic).toBe('lunch')
    expect(server.sent('join')).toHaveLength(1)
  })

  it('room_removed takes the room out, stops keeping it joined and says so once', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    await flush()
    server.socket.push({ type: 'room', room: dmInfo({ name: 'secret', kind: 'private', owner: bob }) })
    await flush()
    client.focus('secret')
    server.socket.push({ type: 'room_removed', room: 'secret' })
    expect(client.rooms.getState().map((r) => r.name)).not.toContain('secret')
    expect(client.notice.getState()).toMatchObject({ room: 'secret', text: 'You are no longer a member of secret.' })
    expect(client.room('secret').getState().status).toBe('error')
    await reconnect(server)
    expect(server.sockets.at(-1)!.framesOf('join')).toEqual([])
  })

  it('a room this user may not read says nothing of itself and is not kept joined', async () => {
    const server = new FakeServer()
    server.forbidden.add('hidden')
    const client = await started(server)
    server.acceptAll()
    client.open('hidden')
    await flush()
    expect(client.room('hidden').getState()).toMatchObject({
      status: 'error', error: 'This room does not exist or you may not read it.', messages: [],
    })
    // A room listed here that the server no longer opens (removed while away) leaves the list.
    server.forbidden.add('gone')
    server.socket.push({ type: 'room', room: dmInfo({ name: 'gone', kind: 'private' }) })
    expect(client.rooms.getState().map((r) => r.name)).toContain('gone')
    await flush()
    expect(client.rooms.getState().map((r) => r.name)).not.toContain('gone')
    await reconnect(server)
    expect(server.sockets.at(-1)!.framesOf('join')).toEqual([])
  })
})
