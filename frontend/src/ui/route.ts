// The URL is the one piece of state a link or a reload must restore: /r/<room>,
// and /r/<room>?m=<seq> for a room opened at one message (a search result).
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

export function pathForRoom(room: string, seq?: number): string {
  return `/r/${encodeURIComponent(room)}${seq === undefined ? '' : `?m=${seq}`}`
}

/** The message a query names (`?m=<seq>`), or null. */
export function seqFromQuery(search: string): number | null {
  const text = new URLSearchParams(search).get('m')
  if (text === null || !/^[1-9][0-9]{0,15}$/.test(text)) return null
  return Number(text)
}

/** A message to show in the open room: a new `id` each time one is asked for, even the same one. */
export interface RouteTarget {
  seq: number
  id: number
}

export interface RouteStore extends Store<string | null> {
  /** Opens the room (pushState); a no-op when it is already open. */
  navigate(room: string): void
  /** Opens the room in place of the current entry (replaceState): no step back to where we were. */
  replace(room: string): void
  /** The message the address names in the open room, or null. */
  target(): RouteTarget | null
  /** Opens the room at the message `seq` (pushState /r/<room>?m=<seq>), even when it is open. */
  show(room: string, seq: number): void
  /** Drops the message from the address (replaceState): the room is read at its live end again. */
  clearTarget(): void
  dispose(): void
}

export function createRouteStore(win: Window = window): RouteStore {
  const listeners = new Set<() => void>()
  let room = roomFromPath(win.location.pathname)
  let targets = 0
  const targetFromUrl = (): RouteTarget | null => {
    const seq = room === null ? null : seqFromQuery(win.location.search)
    return seq === null ? null : { seq, id: ++targets }
  }
  let target = targetFromUrl()
  const notify = () => listeners.forEach((listener) => listener())
  const update = () => {
    const next = roomFromPath(win.location.pathname)
    const seq = next === null ? null : seqFromQuery(win.location.search)
    if (next === room && seq === (target?.seq ?? null)) return
    room = next
    target = targetFromUrl()
    notify()
  }
  win.addEventListener('popstate', update)
  return {
    getState: () => room,
    target: () => target,
    show(next, seq) {
      win.history.pushState(null, '', pathForRoom(next, seq))
      room = roomFromPath(win.location.pathname)
      target = targetFromUrl()
      notify()
    },
    clearTarget() {
      if (target === null || room === null) return
      win.history.replaceState(null, '', pathForRoom(room))
      target = null
      notify()
    },
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
