import { describe, expect, it } from 'vitest'
import { testClients } from './testing/clients'
import { FakeServer, alice, bob, flush } from './testing/fakes'

const { started } = testClients()

describe('the room being read', () => {
  it('keeps the unread count a room had when it was focused, for the New messages line, until another room is', async () => {
    const server = new FakeServer()
    server.store('general', alice, 'mine')
    server.store('random', alice, 'mine too')
    const client = await started(server)
    // Focused before the room list is known (a page opened at the room): the first answer tells.
    client.focus('general')
    server.acceptAll()
    await flush()
    expect(client.room('general').getState().opening).toEqual({ unread: 0, lastSeq: 1 })
    server.store('random', bob, 'unread 1')
    server.store('random', bob, 'unread 2')
    client.focus(null)
    client.focus('random')
    expect(client.room('random').getState().opening).toEqual({ unread: 2, lastSeq: 3 })
    expect(client.room('general').getState().opening).toBeNull()
    expect(client.rooms.getState().find((r) => r.name === 'random')?.unread).toBe(0)
    // Focused again without another room in between (React's StrictMode): what was taken stays.
    client.focus(null)
    client.focus('random')
    server.store('random', bob, 'read while here')
    expect(client.room('random').getState().opening).toEqual({ unread: 2, lastSeq: 3 })
    client.focus('general')
    expect(client.room('random').getState().opening).toBeNull()
  })
})
