// Message search (the `search` frame): one query at a time, paged backwards
// with `before` = the last result's id. The state is changed by pure
// functions; MessageSearch wraps them around the request machinery and drops
// the answers of a query that was replaced or cleared meanwhile.
import type { RequestFrame, SearchFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { createStore, type WritableStore } from './store'
import type { Message, Store } from './types'

/** Results asked for at a time: the server's default, a screenful or two. */
export const SEARCH_PAGE_SIZE = 20

export interface SearchState {
  /** The query asked (trimmed); '' when there is no search. */
  query: string
  status: 'idle' | 'searching' | 'done' | 'error'
  /** Matches, newest first, each message once. */
  results: Message[]
  hasMore: boolean
  loadingMore: boolean
  /** Why the search failed: the contract's code and the server's detail. */
  error: { code: string; detail: string } | null
}

export const IDLE_SEARCH: SearchState = { query: '', status: 'idle', results: [], hasMore: false, loadingMore: false, error: null }

export function searchStarted(query: string): SearchState {
  return { ...IDLE_SEARCH, query, status: 'searching' }
}

/** A page of results went in: the first replaces, the next ones append (a message once). */
export function resultsArrived(state: SearchState, page: readonly Message[], hasMore: boolean): SearchState {
  const seen = new Set(state.status === 'done' ? state.results.map((m) => m.id) : [])
  const kept = state.status === 'done' ? state.results : []
  return {
    ...state,
    status: 'done',
    results: [...kept, ...page.filter((m) => !seen.has(m.id))],
    hasMore,
    loadingMore: false,
    error: null,
  }
}

export function searchFailed(state: SearchState, error: unknown): SearchState {
  const code = error instanceof PushError ? error.code : 'error'
  const detail = error instanceof Error ? error.message : String(error)
  // A failed "more" keeps the results shown; a failed first page shows the failure.
  if (state.loadingMore) return { ...state, loadingMore: false, error: { code, detail } }
  return { ...state, status: 'error', results: [], hasMore: false, error: { code, detail } }
}

/** The `before` of the next page, or null when there is none to ask for. */
export function nextBefore(state: SearchState): number | null {
  if (state.status !== 'done' || !state.hasMore || state.loadingMore) return null
  return state.results.at(-1)?.id ?? null
}

/** Results show messages as they are now: an edit or a delete seen later replaces its copy. */
export function resultsUpdated(state: SearchState, messages: readonly Message[]): SearchState {
  if (state.results.length === 0 || messages.length === 0) return state
  const byId = new Map(messages.map((m) => [m.id, m]))
  let changed = false
  const results = state.results.map((held) => {
    const now = byId.get(held.id)
    if (!now || now.rev <= held.rev) return held
    changed = true
    return now
  })
  return changed ? { ...state, results } : state
}

export class MessageSearch {
  private readonly state: WritableStore<SearchState> = createStore(IDLE_SEARCH)
  /** Bumped by every new query and by clear: answers of an older one are dropped. */
  private generation = 0

  constructor(private readonly request: (frame: RequestFrame) => Promise<ServerFrame>) {}

  get store(): Store<SearchState> {
    return this.state
  }

  /** Searches for `query` (operators as typed); an empty query clears. */
  run(query: string): void {
    const text = query.trim()
    if (text === '') return this.clear()
    const generation = ++this.generation
    this.state.setState(searchStarted(text))
    this.ask(generation, { type: 'search', query: text, limit: SEARCH_PAGE_SIZE })
  }

  /** The next (older) page of the current query. */
  more(): void {
    const current = this.state.getState()
    const before = nextBefore(current)
    if (before === null) return
    this.state.setState({ ...current, loadingMore: true, error: null })
    this.ask(this.generation, { type: 'search', query: current.query, before, limit: SEARCH_PAGE_SIZE })
  }

  clear(): void {
    this.generation++
    this.state.setState(IDLE_SEARCH)
  }

  /** Messages seen elsewhere (live updates, history): results follow their edits and deletes. */
  seen(messages: readonly Message[]): void {
    this.state.setState((state) => resultsUpdated(state, messages))
  }

  private ask(generation: number, frame: RequestFrame): void {
    this.request(frame).then(
      (answer) => {
        if (generation !== this.generation) return
        const page = answer as SearchFrame
        this.state.setState((state) => resultsArrived(state, page.messages, page.has_more))
      },
      (error: unknown) => {
        if (generation === this.generation) this.state.setState((state) => searchFailed(state, error))
      },
    )
  }
}
