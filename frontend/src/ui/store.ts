// React reads the data layer's external stores through useSyncExternalStore.
import { useCallback, useSyncExternalStore } from 'react'
import type { Store } from '../lib'

export function useStore<T>(store: Store<T>): T {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store])
  const getState = useCallback(() => store.getState(), [store])
  return useSyncExternalStore(subscribe, getState, getState)
}
