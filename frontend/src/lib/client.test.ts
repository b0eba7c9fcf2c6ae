import { describe, expect, it, vi } from 'vitest'
import { seqs, testClients } from './testing/clients'
import { FakeServer, alice, bob, flush } from './testing/fakes'

const { started } = testClients()

describe('session and connection', () => {
  it('start() reads the session and connects when logged in', async () => {
    const server = new FakeServer()
    const client = await started(server)
    expect(client.session.getState()).toEqual({ status: 'authenticated', user: alice })
    expect(client.connection.getState().status).toBe('connecting')
    server.acceptAll()
    expect(client.connection.getState().status).toBe('connected')
  })

  it('4401 ends the session: anonymous, no more reconnecting, stores reset', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'hello')
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    expect(seqs(client, 'general')).toEqual([1])
    server.socket.drop(4401)
    expect(client.session.getState()).toEqual({ status: 'anonymous', user: null })
    expect(client.room('general').getState().messages).toEqual([])
    await vi.advanceTimersByTimeAsync(120_000)
    expect(server.sockets).toHaveLength(1)
  })
})

describe('inbound frames', () => {
  it('ignores a malformed frame and keeps working', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.socket.pushRaw('{"type":"message","room":"general","message":{"seq":"x"}}')
    server.store('general', bob, 'fine')
    expect(seqs(client, 'general')).toEqual([1])
    expect(warn).toHaveBeenCalled()
  })
})

describe('logout', () => {
  it('closes the socket, says goodbye to the server and resets every store', async () => {
    const server = new FakeServer()
    server.store('general', alice, 'hi')
    const calls: string[] = []
    const env = server.env()
    const baseFetch = env.fetch!
    const client = await started(server, {
      fetch: (async (input: string, init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${input}`)
        if (init?.method === 'DELETE') return new Response(null, { status: 204 })
        return baseFetch(input, init)
      }) as typeof fetch,
    })
    server.acceptAll()
    await flush()
    expect(client.rooms.getState()).toHaveLength(1)
    await client.logout()
    expect(calls).toEqual(['GET http://api/api/session', 'DELETE http://api/api/session'])
    expect(server.socket.closedByClient).toBe(1000)
    expect(client.session.getState().status).toBe('anonymous')
    expect(client.rooms.getState()).toEqual([])
    expect(client.room('general').getState().messages).toEqual([])
    expect(client.connection.getState().status).toBe('idle')
  })

  it('stays signed in and connected when the server cannot be told', async () => {
    const server = new FakeServer()
    const env = server.env()
    const baseFetch = env.fetch!
    const client = await started(server, {
      fetch: (async (input: string, init?: RequestInit) => {
        if (init?.method === 'DELETE') throw new TypeError('Failed to fetch')
        return baseFetch(input, init)
      }) as typeof fetch,
    })
    server.acceptAll()
    await flush()
    await expect(client.logout()).rejects.toMatchObject({ status: 0 })
    // The server's session is still valid: showing the sign-in form would be a lie
    // that a reload undoes.
    expect(client.session.getState().status).toBe('authenticated')
    expect(client.connection.getState().status).toBe('connected')
  })
})
