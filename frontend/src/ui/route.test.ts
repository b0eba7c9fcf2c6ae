import { describe, expect, it } from 'vitest'
import { createRouteStore, pathForRoom, roomFromPath } from './route'

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
    location: { pathname: initial },
    pushed: 0,
    history: {
      pushState(_state: unknown, _title: string, url: string) {
        win.location.pathname = url
        win.pushed += 1
      },
      replaceState(_state: unknown, _title: string, url: string) {
        win.location.pathname = url
      },
    },
    addEventListener: (_type: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_type: string, listener: () => void) => listeners.delete(listener),
    back(to: string) {
      win.location.pathname = to
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
