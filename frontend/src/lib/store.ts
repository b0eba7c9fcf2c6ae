// A tiny zustand-like external store. State is treated as immutable: setState
// with the same object notifies nobody, so useSyncExternalStore re-renders only
// on a real change.
import type { Store } from './types'

export interface WritableStore<T> extends Store<T> {
  setState(next: T | ((prev: T) => T)): void
}

export function createStore<T>(initial: T): WritableStore<T> {
  let state = initial
  const listeners = new Set<() => void>()
  return {
    getState: () => state,
    setState(next) {
      const value = typeof next === 'function' ? (next as (prev: T) => T)(state) : next
      if (Object.is(value, state)) return
      state = value
      for (const listener of [...listeners]) listener()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}
