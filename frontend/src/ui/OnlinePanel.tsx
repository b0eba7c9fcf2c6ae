import { useId, useState } from 'react'
import type { User } from '../lib'
import { Avatar } from './Avatar'

/**
 * Who is in the room now; a collapsible drawer on narrow screens. While the
 * room is being joined again after the connection dropped, the list is what it
 * was: dimmed, and said to be out of date, rather than showing everyone online.
 */
export function OnlinePanel({ people, me, stale }: { people: User[]; me: User; stale: boolean }) {
  const [open, setOpen] = useState(false)
  const bodyId = useId()
  return (
    <aside className="people" data-open={open || undefined} data-stale={stale || undefined} aria-label="People in this room">
      <button
        type="button"
        className="people-toggle"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen((value) => !value)}
      >
        {open ? 'Hide people' : 'Show people'} ({people.length})
      </button>
      <div className="people-body" id={bodyId}>
        <div className="people-heading">
          <h2 className="section-title">Online — {people.length}</h2>
          {stale && (
            <span id={`${bodyId}-stale`} className="stale-note" title="Who is here may be out of date until the connection is back">
              Reconnecting…
            </span>
          )}
        </div>
        <ul aria-label="Online" className="people-list" aria-describedby={stale ? `${bodyId}-stale` : undefined}>
          {people.map((person) => (
            <li key={person.id} className="person" data-me={person.id === me.id || undefined}>
              <Avatar user={person} />
              <span className="person-name">{person.username}</span>
              <span className="presence-dot" aria-hidden="true" />
            </li>
          ))}
        </ul>
      </div>
    </aside>
  )
}
