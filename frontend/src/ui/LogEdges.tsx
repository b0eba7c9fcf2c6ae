// What stands above and below the rows of the message log: the way to older
// and newer pages, the room's beginning once all of it is here, and the words
// for a log with no rows yet.
import type { RoomView } from '../lib'

/** Above the rows: `Load older messages` while older pages remain, else the start of the room. */
export function LogTop({ view, label, onLoadOlder }: { view: RoomView; label: string; onLoadOlder(): void }) {
  if (view.hasMore) {
    return (
      <div className="log-top">
        <button type="button" className="small-button" onClick={onLoadOlder} disabled={view.loadingOlder} aria-busy={view.loadingOlder || undefined}>
          Load older messages
        </button>
      </div>
    )
  }
  return view.status === 'joined' && view.messages.length > 0 && <p className="log-start muted small">This is the start of {label}.</p>
}

/** No rows: still loading, or nothing was ever said here. */
export function LogEmpty({ view, label }: { view: RoomView; label: string }) {
  return <p className="log-empty muted">{view.status === 'joining' ? 'Loading messages…' : `No messages in ${label} yet. Say hello!`}</p>
}

/** Below the rows of a slice short of the live end: the way to the next page. */
export function LogBottom({ loadingNewer, onLoadNewer }: { loadingNewer: boolean; onLoadNewer(): void }) {
  return (
    <div className="log-bottom">
      <button type="button" className="small-button" onClick={onLoadNewer} disabled={loadingNewer} aria-busy={loadingNewer || undefined}>
        Load newer messages
      </button>
    </div>
  )
}
