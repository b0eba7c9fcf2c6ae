import { describe, expect, it, vi } from 'vitest'
import { PushError } from './push'
import { reconnect, testClients } from './testing/clients'
import { FakeServer, bob, flush } from './testing/fakes'
import type { Message } from './types'

const { connected } = testClients()

describe('notification levels', () => {
  it("reads the server's levels after connecting, and again after a reconnect", async () => {
    const server = new FakeServer()
    server.notifyLevels.set('general', 'all')
    const client = await connected(server)
    expect(server.sent('notify_settings')).toHaveLength(1)
    expect(client.notifyLevels.getState()).toEqual({ general: 'all' })

    server.notifyLevels.set('random', 'nothing')
    await reconnect(server)
    expect(server.sent('notify_settings')).toHaveLength(2)
    expect(client.notifyLevels.getState()).toEqual({ general: 'all', random: 'nothing' })
  })

  it('sets a level on the server and follows another device live', async () => {
    const server = new FakeServer()
    const client = await connected(server)
    await client.setNotifyLevel('general', 'nothing')
    expect(server.sent('notify')).toEqual([{ type: 'notify', room: 'general', level: 'nothing', ref: expect.any(String) }])
    expect(client.notifyLevels.getState()).toEqual({ general: 'nothing' })

    // Another device of this person changes it: the unasked frame applies.
    server.socket.push({ type: 'notify', room: 'general', level: 'all' })
    expect(client.notifyLevels.getState()).toEqual({ general: 'all' })
    // A frame with a level this app does not know is dropped, not applied.
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    server.socket.push({ type: 'notify', room: 'general', level: 'loud' })
    expect(client.notifyLevels.getState()).toEqual({ general: 'all' })
  })

  it("rejects with the server's error and keeps the level", async () => {
    const server = new FakeServer()
    server.forbidden.add('secret')
    const client = await connected(server)
    await expect(client.setNotifyLevel('secret', 'all')).rejects.toEqual(new PushError('forbidden', 'forbidden'))
    expect(client.notifyLevels.getState()).toEqual({})
  })

  it('forgets the levels on logout (4401)', async () => {
    const server = new FakeServer()
    server.notifyLevels.set('general', 'all')
    const client = await connected(server)
    expect(client.notifyLevels.getState()).toEqual({ general: 'all' })
    server.socket.drop(4401)
    expect(client.notifyLevels.getState()).toEqual({})
  })
})

describe('live messages', () => {
  it('tells listeners of messages that arrive live, not of what a join or history brings', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'before joining')
    const client = await connected(server)
    const heard: Message[] = []
    const stop = client.onLiveMessage((m) => heard.push(m))
    client.open('general')
    await flush()
    expect(client.room('general').getState().messages.map((m) => m.body)).toEqual(['before joining'])
    expect(heard).toEqual([])

    server.store('general', bob, 'live one')
    client.send('general', 'mine')
    await flush()
    // Its own messages too (the decision leaves them out): the server sends them live to every joined socket.
    expect(heard.map((m) => [m.author.username, m.body])).toEqual([['bob', 'live one'], ['alice', 'mine']])

    stop()
    server.store('general', bob, 'not heard')
    expect(heard).toHaveLength(2)
  })
})
