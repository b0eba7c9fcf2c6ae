import { useEffect, useState } from 'react'
import { useServices } from './context'
import { useStore } from './store'
import { connectionText } from './view'

/** Re-renders every `intervalMs` while `active`, for live countdowns. */
function useNow(active: boolean, intervalMs = 250): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!active) return
    const tick = () => setNow(Date.now())
    const first = window.setTimeout(tick, 0)
    const timer = window.setInterval(tick, intervalMs)
    return () => {
      window.clearTimeout(first)
      window.clearInterval(timer)
    }
  }, [active, intervalMs])
  return now
}

export function ConnectionStatus() {
  const { client } = useServices()
  const { status, retryAt } = useStore(client.connection)
  const now = useNow(retryAt !== null)
  // After the first connection, a new attempt is a reconnect, whatever the state is called.
  const [wasConnected, setWasConnected] = useState(false)
  if (status === 'connected' && !wasConnected) setWasConnected(true)

  const text = connectionText(status, retryAt, now, wasConnected || status === 'reconnecting')
  const down = text !== ''
  return (
    <div role="status" aria-label="Connection" className="connection" data-down={down || undefined}>
      {down && (
        <>
          <span className="connection-dot" aria-hidden="true" />
          <span>{text}</span>
          {(status === 'reconnecting' || wasConnected) && (
            <button type="button" className="small-button" onClick={() => client.reconnectNow()}>
              Reconnect now
            </button>
          )}
        </>
      )}
    </div>
  )
}
