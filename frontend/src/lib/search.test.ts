import { describe, expect, it } from 'vitest'
import type { RequestFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { IDLE_SEARCH, MessageSearch, nextBefore, resultsArrived, resultsUpdated, searchFailed, searchStarted } from './search'
import { reconnect, testClients } from './testing/clients'
import { FakeServer, V2_FIELDS, bob, flush } from './testing/fakes'
import type { Message } from './types'

const m = (id: number, rev = 1, body = `body ${id}`): Message => ({
  id, room: 'general', seq: id, author: { id: 1, username: 'a' }, body, created_at: '', client_id: `c${id}`, ...V2_FIELDS, rev,
})
const ids = (messages: readonly Message[]) => messages.map((x) => x.id)

describe('search state', () => {
  it('a first page replaces, the next appends each message once, and gives the next before', () => {
    let state = resultsArrived(searchStarted('cats'), [m(9), m(8)], true)
    expect(state).toMatchObject({ query: 'cats', status: 'done', hasMore: true })
    expect(nextBefore(state)).toBe(8)
    state = resultsArrived({ ...state, loadingMore: true }, [m(8), m(5)], false)
    expect(ids(state.results)).toEqual([9, 8, 5])
    expect(nextBefore(state)).toBeNull()
  })

  it('no next page while one is loading or before the first answer', () => {
    expect(nextBefore(searchStarted('x'))).toBeNull()
    const state = resultsArrived(searchStarted('x'), [m(3)], true)
    expect(nextBefore({ ...state, loadingMore: true })).toBeNull()
  })

  it('a failed first page shows the error; a failed next page keeps the results', () => {
    const failed = searchFailed(searchStarted('x'), new PushError('invalid_query', 'no words'))
    expect(failed).toMatchObject({ status: 'error', results: [], error: { code: 'invalid_query', detail: 'no words' } })
    const shown = resultsArrived(searchStarted('x'), [m(3)], true)
    const more = searchFailed({ ...shown, loadingMore: true }, new PushError('timeout', 'No answer'))
    expect(more).toMatchObject({ status: 'done', loadingMore: false, error: { code: 'timeout' } })
    expect(ids(more.results)).toEqual([3])
  })

  it('results follow a later revision of their message (an edit, a delete), never an older one', () => {
    const state = resultsArrived(searchStarted('x'), [m(3, 5), m(2, 5)], false)
    const next = resultsUpdated(state, [{ ...m(3, 6), deleted: true, body: '' }, m(2, 4, 'older')])
    expect(next.results[0]!.deleted).toBe(true)
    expect(next.results[1]!.body).toBe('body 2')
    expect(resultsUpdated(state, [m(2, 4)])).toBe(state)
  })
})

describe('MessageSearch', () => {
  function harness() {
    const asked: RequestFrame[] = []
    const answers: { resolve: (f: ServerFrame) => void; reject: (e: unknown) => void }[] = []
    const search = new MessageSearch((frame) => {
      asked.push(frame)
      return new Promise((resolve, reject) => answers.push({ resolve, reject }))
    })
    return { search, asked, answers }
  }

  it('asks with the query as typed (operators kept), then pages back with before', async () => {
    const { search, asked, answers } = harness()
    search.run('  from:bob "big cats" ')
    expect(asked[0]).toEqual({ type: 'search', query: 'from:bob "big cats"', limit: 20 })
    expect(search.store.getState().status).toBe('searching')
    answers[0]!.resolve({ type: 'search', messages: [m(9), m(7)], has_more: true })
    await flush()
    search.more()
    expect(asked[1]).toEqual({ type: 'search', query: 'from:bob "big cats"', before: 7, limit: 20 })
    search.more() // one page at a time
    expect(asked).toHaveLength(2)
    answers[1]!.resolve({ type: 'search', messages: [m(4)], has_more: false })
    await flush()
    expect(ids(search.store.getState().results)).toEqual([9, 7, 4])
  })

  it('drops the answer of a query replaced or cleared meanwhile', async () => {
    const { search, answers } = harness()
    search.run('old')
    search.run('new')
    answers[0]!.resolve({ type: 'search', messages: [m(1)], has_more: false })
    await flush()
    expect(search.store.getState()).toMatchObject({ query: 'new', status: 'searching' })
    search.clear()
    answers[1]!.resolve({ type: 'search', messages: [m(2)], has_more: false })
    await flush()
    expect(search.store.getState()).toBe(IDLE_SEARCH)
  })

  it('an empty query clears without asking', () => {
    const { search, asked } = harness()
    search.run('   ')
    expect(asked).toEqual([])
    expect(search.store.getState()).toBe(IDLE_SEARCH)
  })
})

describe('the client’s search', () => {
  const { connected } = testClients()

  it('asks the server, pages with before, and follows a later delete of a result', async () => {
    const server = new FakeServer()
    server.revisions = true
    for (let i = 1; i <= 25; i++) server.store('general', bob, `cats ${i}`)
    const client = await connected(server)
    client.open('general')
    await flush()
    client.search.run('cats')
    await flush()
    expect(client.search.store.getState()).toMatchObject({ status: 'done', hasMore: true })
    expect(client.search.store.getState().results).toHaveLength(20)
    client.search.more()
    await flush()
    expect(server.sent('search').at(-1)).toMatchObject({ query: 'cats', before: client.search.store.getState().results[19]!.id })
    expect(client.search.store.getState().results).toHaveLength(25)
    server.change('general', 25, () => ({ body: '', deleted: true }))
    await flush()
    expect(client.search.store.getState().results[0]).toMatchObject({ seq: 25, deleted: true })
  })

  it('a search typed while the socket reconnects waits for it, then asks', async () => {
    const server = new FakeServer()
    server.store('general', bob, 'cats 1')
    const client = await connected(server)
    await reconnect(server, async () => {
      client.search.run('cats')
      await flush()
      expect(client.search.store.getState().status).toBe('searching')
    })
    expect(client.search.store.getState()).toMatchObject({ status: 'done', error: null })
    expect(client.search.store.getState().results.map((result) => result.body)).toEqual(['cats 1'])
  })
})
