import { useId, useState } from 'react'
import type { User } from '../lib'
import { Avatar } from './Avatar'

/**
 * Who is in the room now; a collapsible drawer on narrow screens. While the
 * room is being joined again after the connection dropped, the list is what it
 * was: dimmed, and said to be out of date, rather than showing everyone online.
 */
export function OnlinePanel({ people, me, stale, onMessage }: {
  people: User[]
  me: User
  stale: boolean
  /** Opens a dm with this user. */
  onMessage(username: string): void
}) {
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
              {person.id !== me.id && (
                <button
                  type="button"
                  className="icon-button person-action"
                  aria-label={`Message ${person.username}`}
                  title={`Message ${person.username}`}
                  onClick={() => onMessage(person.username)}
                >
                  <svg aria-hidden="true" viewBox="0 0 20 20" width="16" height="16">
                    <path
                      d="M4 4h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H9l-4 3v-3H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z"
                      fill="none"
                      stroke="currentColor"
                      strokeWidth="1.6"
                      strokeLinejoin="round"
                    />
                  </svg>
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>
    </aside>
  )
}
