// The chat client under test, made against a FakeServer. A test file (or a
// describe block) calls testClients() once: its tests then run on fake timers,
// and every client a test made is disposed after it, so no socket or timer
// outlives the test that started it.
import { afterEach, beforeEach, vi } from 'vitest'
import { createChatClient } from '../client'
import type { ChatEnv } from '../env'
import type { ChatClient } from '../types'
import { flush, type FakeServer } from './fakes'

export interface TestClients {
  /** A client of the server's, started: the session read, its socket connecting (not accepted yet). */
  started(server: FakeServer, env?: Partial<ChatEnv>): Promise<ChatClient>
  /** A started client whose socket the server has accepted. */
  connected(server: FakeServer, env?: Partial<ChatEnv>): Promise<ChatClient>
}

/** `env` goes into every client made here; a test's own env goes over it. */
export function testClients(env: Partial<ChatEnv> = {}): TestClients {
  let clients: ChatClient[] = []
  beforeEach(() => {
    vi.useFakeTimers()
    clients = []
  })
  afterEach(() => {
    for (const client of clients) client.dispose()
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  async function started(server: FakeServer, extra: Partial<ChatEnv> = {}): Promise<ChatClient> {
    const client = createChatClient({ httpBase: 'http://api', socketUrl: 'ws://api/ws/', env: server.env({ ...env, ...extra }) })
    clients.push(client)
    await client.start()
    await flush()
    return client
  }

  async function connected(server: FakeServer, extra: Partial<ChatEnv> = {}): Promise<ChatClient> {
    const client = await started(server, extra)
    server.acceptAll()
    await flush()
    return client
  }

  return { started, connected }
}

/**
 * Kills the socket, waits out the backoff, lets the new one connect and catch up;
 * `whileDown` runs between the drop and the backoff (what a person does meanwhile).
 */
export async function reconnect(server: FakeServer, whileDown?: () => void | Promise<void>): Promise<void> {
  const count = server.sockets.length
  server.socket.drop(1006)
  if (whileDown) await whileDown()
  while (server.sockets.length === count) await vi.advanceTimersByTimeAsync(50)
  server.acceptAll()
  await flush()
}

/** The seqs of the messages a client holds in a room, oldest first. */
export const seqs = (client: ChatClient, room: string) => client.room(room).getState().messages.map((m) => m.seq)
