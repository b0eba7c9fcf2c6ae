// Message search in the top bar: a `search` landmark with the field `Search
// messages`. Enter searches (operators such as from: and in: as typed); the
// results open under the field, newest first, each choosing opens its room at
// that message. Escape, or emptying the field, closes them.
import { useEffect, useMemo, useRef, useState } from 'react'
import type { Message, RoomSummary, User } from '../lib'
import { useServices } from './context'
import { calendarDay, dayLabel, dayOf, type CalendarDay } from './days'
import { roomTitle } from './directory'
import { markMatches, queryWords } from './searchText'
import { useStore } from './store'
import { formatClock, formatFullDate } from './view'

/** What a failed search says, for people. */
function searchProblem(error: { code: string; detail: string }): string {
  if (error.code === 'invalid_query') return 'Type a word to search for.'
  if (error.code === 'forbidden') return 'No room by that name is open to you.'
  if (error.code === 'rate_limited') return 'Too many searches at once: try again in a moment.'
  return `Could not search: ${error.detail || error.code}`
}

function roomLabel(name: string, rooms: readonly RoomSummary[], me: User): string {
  const summary = rooms.find((r) => r.name === name)
  return summary?.kind === 'dm' ? roomTitle(summary, me) : `#${name}`
}

interface ResultProps {
  message: Message
  room: string
  words: string[]
  today: CalendarDay
  onChoose(): void
}

function Result({ message, room, words, today, onChoose }: ResultProps) {
  const day = dayOf(message.created_at)
  const when = Number.isNaN(day) ? '' : `${dayLabel(day, today)}, ${formatClock(message.created_at)}`
  return (
    <li>
      <button type="button" className="search-result" onClick={onChoose}>
        <span className="search-result-head">
          <span className="search-result-room">{room}</span>
          <span className="search-result-author">{message.author.username}</span>
          <time dateTime={message.created_at} title={formatFullDate(message.created_at)} className="muted small">
            {when}
          </time>
        </span>
        {message.deleted ? (
          <span className="search-result-body message-deleted">This message was deleted</span>
        ) : (
          <span className="search-result-body">
            {markMatches(message.body, words).map((piece, i) => (piece.match ? <mark key={i}>{piece.text}</mark> : piece.text))}
            {message.edited_at && <span className="muted"> (edited)</span>}
          </span>
        )}
      </button>
    </li>
  )
}

export function SearchBox({ user }: { user: User }) {
  const { client, route } = useServices()
  const search = useStore(client.search.store)
  const rooms = useStore(client.rooms)
  const [text, setText] = useState('')
  const [shown, setShown] = useState(false)
  /** The reader's today when they last searched: `Today` and `Yesterday` in the results. */
  const [today, setToday] = useState(() => calendarDay(Date.now()))
  const field = useRef<HTMLInputElement>(null)
  const area = useRef<HTMLDivElement>(null)
  const words = useMemo(() => queryWords(search.query), [search.query])
  const open = shown && search.status !== 'idle'

  // A click or tap anywhere else closes the results (they are kept: focusing the field shows them again).
  useEffect(() => {
    if (!open) return
    const onPointer = (event: PointerEvent) => {
      if (!area.current?.contains(event.target as Node)) setShown(false)
    }
    document.addEventListener('pointerdown', onPointer)
    return () => document.removeEventListener('pointerdown', onPointer)
  }, [open])

  function close() {
    client.search.clear()
    setShown(false)
  }

  function choose(message: Message) {
    // The results stay asked for: focusing the field again shows them.
    setShown(false)
    route.show(message.room, message.seq)
  }

  const status =
    search.status === 'searching'
      ? 'Searching…'
      : search.status === 'error' && search.error
        ? searchProblem(search.error)
        : search.status === 'done'
          ? search.results.length === 0
            ? 'No messages match.'
            : `${search.results.length}${search.hasMore ? '+' : ''} ${search.results.length === 1 ? 'result' : 'results'}`
          : ''

  return (
    <div
      role="search"
      className="search"
      onKeyDown={(event) => {
        if (event.key !== 'Escape' || !open) return
        event.preventDefault()
        close()
        field.current?.focus()
      }}
      ref={area}
      onBlur={(event) => {
        // Focus gone elsewhere (Tab); focus dropped to nothing (a button disabled) keeps them.
        if (event.relatedTarget && !event.currentTarget.contains(event.relatedTarget)) setShown(false)
      }}
    >
      <form
        className="search-form"
        onSubmit={(event) => {
          event.preventDefault()
          if (text.trim() === '') return close()
          client.search.run(text)
          setToday(calendarDay(Date.now()))
          setShown(true)
        }}
      >
        <input
          ref={field}
          type="search"
          className="search-field"
          aria-label="Search messages"
          placeholder="Search messages"
          autoComplete="off"
          enterKeyHint="search"
          value={text}
          onChange={(event) => {
            setText(event.target.value)
            if (event.target.value === '') close()
          }}
          onFocus={() => setShown(true)}
        />
      </form>
      {/* Always in the page, so each change is announced; the panel shows the same words. */}
      <p role="status" className="visually-hidden">
        {open ? status : ''}
      </p>
      {open && (
        <div className="search-panel">
          <p className="search-status muted small" aria-hidden="true">
            {status}
          </p>
          {search.results.length > 0 && (
            <ul className="search-results" aria-label="Search results">
              {search.results.map((message) => (
                <Result
                  key={message.id}
                  message={message}
                  room={roomLabel(message.room, rooms, user)}
                  words={words}
                  today={today}
                  onChoose={() => choose(message)}
                />
              ))}
            </ul>
          )}
          {search.status === 'done' && search.error && <p className="form-error small">{searchProblem(search.error)}</p>}
          {search.hasMore && (
            <button
              type="button"
              className="small-button search-more"
              onClick={() => client.search.more()}
              disabled={search.loadingMore}
              aria-busy={search.loadingMore || undefined}
            >
              Load more results
            </button>
          )}
        </div>
      )}
    </div>
  )
}
