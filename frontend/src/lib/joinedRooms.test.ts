import { describe, expect, it, vi } from 'vitest'
import { testClients } from './testing/clients'
import { FakeServer, flush } from './testing/fakes'

const { started } = testClients()

describe('rooms kept joined', () => {
  it('refuses a bad room name without asking the server', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('Bad Name!')
    await flush()
    expect(client.room('Bad Name!').getState().status).toBe('error')
    expect(server.sent('join')).toEqual([])
  })

  it('a join without an answer shows an error, and opening the room again retries it', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    await flush()
    server.answering = false
    client.open('general')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(client.room('general').getState()).toMatchObject({ status: 'error', error: 'No answer from the server' })
    server.answering = true
    client.open('general')
    await flush()
    expect(client.room('general').getState()).toMatchObject({ status: 'joined', error: null })
  })
})
