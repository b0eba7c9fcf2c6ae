import { useId, useState } from 'react'
import type { User } from '../lib'
import { Avatar } from './Avatar'

/** Who is in the room now; a collapsible drawer on narrow screens. */
export function OnlinePanel({ people, me }: { people: User[]; me: User }) {
  const [open, setOpen] = useState(false)
  const bodyId = useId()
  return (
    <aside className="people" data-open={open || undefined} aria-label="People in this room">
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
        <h2 className="section-title">Online — {people.length}</h2>
        <ul aria-label="Online" className="people-list">
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
