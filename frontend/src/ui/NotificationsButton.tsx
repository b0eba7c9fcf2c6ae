import { useState } from 'react'
import { useServices } from './context'
import { useStore } from './store'

/**
 * The header's control of notifications in this browser: `Enable notifications`
 * while the browser has not been asked (the one moment it is asked), then a
 * switch to turn them off and on again. Denied: a short word, once.
 */
export function NotificationsButton() {
  const { notifier } = useServices()
  const state = useStore(notifier.state)
  const [busy, setBusy] = useState(false)

  async function run(action: () => Promise<void>) {
    setBusy(true)
    try {
      await action()
    } finally {
      setBusy(false)
    }
  }

  const note = state.note && (
    <span role="status" className="muted small notifications-note">
      {state.note}
    </span>
  )
  if (state.permission === 'unsupported') return null
  if (state.permission === 'denied') return note
  const label = state.permission === 'default' ? 'Enable notifications' : state.enabled ? 'Turn off notifications' : 'Turn on notifications'
  return (
    <>
      {note}
      <button
        type="button"
        className="small-button"
        disabled={busy}
        onClick={() => void run(() => (state.enabled ? notifier.disable() : notifier.enable()))}
      >
        {label}
      </button>
    </>
  )
}
