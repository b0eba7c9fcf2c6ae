import { describe, expect, it } from 'vitest'
import { reconnect, testClients } from './testing/clients'
import { FakeServer, alice, bob, flush } from './testing/fakes'

const { started, connected } = testClients()

describe('room actions', () => {
  it('leaves a room for good: leave with forget, not a member, not joined again by a later rooms answer', async () => {
    const server = new FakeServer()
    server.store('general', alice, 'mine')
    server.store('dev', alice, 'mine too')
    const client = await started(server)
    server.acceptAll()
    await flush()
    expect(client.room('dev').getState().status).toBe('joined')
    await client.leave('dev')
    expect(server.sent('leave')).toEqual([expect.objectContaining({ room: 'dev', forget: true })])
    expect(client.rooms.getState().find((r) => r.name === 'dev')).toEqual(expect.objectContaining({ member: false, unread: 0 }))
    expect(client.room('dev').getState().status).toBe('error')
    await reconnect(server)
    expect(server.sockets.at(-1)!.framesOf('join').map((j) => j.room)).toEqual(['general'])
    // Opened again by the person: joined anew.
    client.open('dev')
    await flush()
    expect(server.sockets.at(-1)!.framesOf('join').map((j) => j.room)).toEqual(['general', 'dev'])
  })

  it('directMessage resolves with the dm room once joined; an unknown username rejects', async () => {
    const server = new FakeServer()
    server.users.set('bob', bob)
    const client = await started(server)
    server.acceptAll()
    await flush()
    await expect(client.directMessage(['bob'])).resolves.toBe('dm-1-2')
    await flush()
    expect(client.room('dm-1-2').getState().status).toBe('joined')
    await expect(client.directMessage(['nobody'])).rejects.toMatchObject({ code: 'not_found' })
  })

  it('create lists the room as its owner’s at once; a taken name rejects with room_exists', async () => {
    const server = new FakeServer()
    server.store('taken', bob, 'here first')
    const client = await started(server)
    server.acceptAll()
    await flush()
    await client.create('plans', 'private', 'what next')
    expect(server.sent('create')).toEqual([expect.objectContaining({ room: 'plans', kind: 'private', topic: 'what next' })])
    expect(client.rooms.getState().find((r) => r.name === 'plans')).toMatchObject({
      kind: 'private', topic: 'what next', owner: alice, members: [alice], member: true,
    })
    await expect(client.create('taken', 'public', '')).rejects.toMatchObject({ code: 'room_exists' })
  })

  it('a room made from its dialog during a reconnect is made once the socket is back', async () => {
    const server = new FakeServer()
    const client = await connected(server)
    let made: Promise<void> | undefined
    await reconnect(server, () => {
      made = client.create('later', 'public', '')
    })
    await made
    expect(server.sent('create')).toEqual([expect.objectContaining({ room: 'later', kind: 'public' })])
    expect(client.rooms.getState().find((r) => r.name === 'later')).toMatchObject({ member: true })
  })
})
