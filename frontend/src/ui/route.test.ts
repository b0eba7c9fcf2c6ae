import { describe, expect, it } from 'vitest'
import { createRouteStore, pathForRoom, roomFromPath, seqFromQuery } from './route'

describe('room paths', () => {
  it('reads /r/<room> and nothing else', () => {
    expect(roomFromPath('/r/general')).toBe('general')
    expect(roomFromPath('/r/general/')).toBe('general')
    expect(roomFromPath('/')).toBeNull()
    expect(roomFromPath('/r/')).toBeNull()
    expect(roomFromPath('/r/a/b')).toBeNull()
    expect(roomFromPath('/r/%E0%A4%A')).toBeNull()
    expect(pathForRoom('dev-ops')).toBe('/r/dev-ops')
  })
})

/** Just enough of window for the route store: a location, a history and popstate. */
function fakeWindow(initial: string) {
  const listeners = new Set<() => void>()
  const win = {
    location: { pathname: initial.split('?')[0]!, search: initial.includes('?') ? `?${initial.split('?')[1]}` : '' },
    pushed: 0,
    history: {
      pushState(_state: unknown, _title: string, url: string) {
        win.go(url)
        win.pushed += 1
      },
      replaceState(_state: unknown, _title: string, url: string) {
        win.go(url)
      },
    },
    addEventListener: (_type: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_type: string, listener: () => void) => listeners.delete(listener),
    go(url: string) {
      const [path, query] = url.split('?')
      win.location.pathname = path!
      win.location.search = query === undefined ? '' : `?${query}`
    },
    back(to: string) {
      win.go(to)
      listeners.forEach((listener) => listener())
    },
  }
  return win
}

describe('createRouteStore', () => {
  it('pushes a path per room and follows the back button', () => {
    const win = fakeWindow('/r/general')
    const store = createRouteStore(win as unknown as Window)
    const seen: (string | null)[] = []
    store.subscribe(() => seen.push(store.getState()))
    expect(store.getState()).toBe('general')
    store.navigate('random')
    expect(win.location.pathname).toBe('/r/random')
    store.navigate('random')
    win.back('/r/general')
    expect(seen).toEqual(['random', 'general'])
    store.dispose()
    win.back('/r/random')
    expect(seen).toEqual(['random', 'general'])
  })

  it('replaces the bare address with a room without a step back to it', () => {
    const win = fakeWindow('/')
    const store = createRouteStore(win as unknown as Window)
    expect(store.getState()).toBeNull()
    store.replace('general')
    expect(store.getState()).toBe('general')
    expect(win.location.pathname).toBe('/r/general')
    expect(win.pushed).toBe(0)
  })
})

describe('a room opened at one message', () => {
  it('reads ?m=<seq> as the target, a new one for every show, and drops it on clearTarget', () => {
    const win = fakeWindow('/r/general?m=42')
    const store = createRouteStore(win as unknown as Window)
    expect(store.target()).toMatchObject({ seq: 42 })
    const first = store.target()!.id
    let notified = 0
    store.subscribe(() => notified++)
    store.show('general', 42)
    expect(store.target()!.id).not.toBe(first)
    expect(notified).toBe(1)
    store.show('random', 7)
    expect(store.getState()).toBe('random')
    expect(`${win.location.pathname}${win.location.search}`).toBe('/r/random?m=7')
    store.clearTarget()
    expect(store.target()).toBeNull()
    expect(`${win.location.pathname}${win.location.search}`).toBe('/r/random')
    expect(win.pushed).toBe(2)
    win.back('/r/general?m=42')
    expect(store.target()).toMatchObject({ seq: 42 })
  })

  it('takes only a positive integer', () => {
    expect(seqFromQuery('?m=0')).toBeNull()
    expect(seqFromQuery('?m=-3')).toBeNull()
    expect(seqFromQuery('?m=1e3')).toBeNull()
    expect(seqFromQuery('?x=1')).toBeNull()
    expect(seqFromQuery('?m=12')).toBe(12)
  })
})
