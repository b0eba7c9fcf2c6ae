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
        className="small-button notifications-button"
        title={label}
        disabled={busy}
        onClick={() => void run(() => (state.enabled ? notifier.disable() : notifier.enable()))}
      >
        <svg aria-hidden="true" viewBox="0 0 20 20" width="14" height="14">
          <path
            d="M10 3a4.5 4.5 0 0 0-4.5 4.5V11L4 13.5h12L14.5 11V7.5A4.5 4.5 0 0 0 10 3zM8 15.5a2 2 0 0 0 4 0"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.6"
            strokeLinejoin="round"
          />
          {state.enabled && <path d="M3 17L17 3" stroke="currentColor" strokeWidth="1.6" />}
        </svg>
        {/* On a phone only the bell shows; the name stays for everyone. */}
        <span className="notifications-label">{label}</span>
      </button>
    </>
  )
}
