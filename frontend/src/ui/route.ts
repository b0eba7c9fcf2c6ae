// The URL is the one piece of state a link or a reload must restore: /r/<room>.
// A tiny external store over history.pushState and popstate.
import type { Store } from '../lib'

/** The room a path names, or null for any other path. Names are kept as written. */
export function roomFromPath(pathname: string): string | null {
  const match = /^\/r\/([^/]+)\/?$/.exec(pathname)
  if (!match?.[1]) return null
  try {
    return decodeURIComponent(match[1])
  } catch {
    return null
  }
}

export function pathForRoom(room: string): string {
  return `/r/${encodeURIComponent(room)}`
}

export interface RouteStore extends Store<string | null> {
  /** Opens the room (pushState); a no-op when it is already open. */
  navigate(room: string): void
  /** Opens the room in place of the current entry (replaceState): no step back to where we were. */
  replace(room: string): void
  dispose(): void
}

export function createRouteStore(win: Window = window): RouteStore {
  const listeners = new Set<() => void>()
  let room = roomFromPath(win.location.pathname)
  const update = () => {
    const next = roomFromPath(win.location.pathname)
    if (next === room) return
    room = next
    listeners.forEach((listener) => listener())
  }
  win.addEventListener('popstate', update)
  return {
    getState: () => room,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    navigate(next) {
      if (next === room) return
      win.history.pushState(null, '', pathForRoom(next))
      update()
    },
    replace(next) {
      if (next === room) return
      win.history.replaceState(null, '', pathForRoom(next))
      update()
    },
    dispose() {
      win.removeEventListener('popstate', update)
      listeners.clear()
    },
  }
}
