// Whether the reader can see the page: a hidden tab reads nothing, so the log
// moves no read marker while it is hidden.
import { useSyncExternalStore } from 'react'

function subscribeVisibility(listener: () => void) {
  document.addEventListener('visibilitychange', listener)
  window.addEventListener('focus', listener)
  return () => {
    document.removeEventListener('visibilitychange', listener)
    window.removeEventListener('focus', listener)
  }
}
const pageVisible = () => document.visibilityState === 'visible'

export function usePageVisible(): boolean {
  return useSyncExternalStore(subscribeVisibility, pageVisible, () => true)
}
