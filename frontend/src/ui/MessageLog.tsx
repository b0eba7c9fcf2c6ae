import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import type { RoomView, User } from '../lib'
import { useServices } from './context'
import { MessageItem } from './MessageItem'
import { buildLog } from './view'

/** Within this many pixels of an edge counts as being at it. */
const EDGE_PX = 48

function subscribeVisibility(listener: () => void) {
  document.addEventListener('visibilitychange', listener)
  window.addEventListener('focus', listener)
  return () => {
    document.removeEventListener('visibilitychange', listener)
    window.removeEventListener('focus', listener)
  }
}
const pageVisible = () => document.visibilityState === 'visible'

interface Props {
  room: string
  user: User
  view: RoomView
}

export function MessageLog({ room, user, view }: Props) {
  const { client } = useServices()
  const entries = useMemo(() => buildLog(view.messages, view.pending), [view.messages, view.pending])
  const scroller = useRef<HTMLDivElement>(null)
  const [atBottom, setAtBottom] = useState(true)
  const atBottomRef = useRef(true)
  const visible = useSyncExternalStore(subscribeVisibility, pageVisible, () => true)
  const lastSeq = view.messages.at(-1)?.seq ?? 0
  const firstSeq = view.messages[0]?.seq ?? 0

  // The newest seq the reader has seen at the bottom; anything newer is "new".
  const [seenSeq, setSeenSeq] = useState(lastSeq)
  if (atBottom && seenSeq !== lastSeq) setSeenSeq(lastSeq)
  const hasUnseen = !atBottom && lastSeq > seenSeq

  // What the log looked like at the last layout, to keep the reader's place.
  const layout = useRef({ firstSeq, lastKey: entries.at(-1)?.key, scrollHeight: 0 })

  const scrollToBottom = useCallback(() => {
    const element = scroller.current
    if (!element) return
    element.scrollTop = element.scrollHeight
    atBottomRef.current = true
    setAtBottom(true)
  }, [])

  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    const before = layout.current
    const last = entries.at(-1)
    const prepended = before.firstSeq > 0 && firstSeq > 0 && firstSeq < before.firstSeq
    const ownNewPending = last?.kind === 'pending' && last.key !== before.lastKey
    if (prepended && !atBottomRef.current) {
      // Older messages went in above: keep what the reader was looking at in place.
      element.scrollTop += element.scrollHeight - before.scrollHeight
    } else if (atBottomRef.current || ownNewPending) {
      element.scrollTop = element.scrollHeight
    }
    layout.current = { firstSeq, lastKey: last?.key, scrollHeight: element.scrollHeight }
  }, [entries, firstSeq])

  // The composer growing or the window resizing must not unstick the bottom.
  useEffect(() => {
    const element = scroller.current
    if (!element || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => {
      if (atBottomRef.current) element.scrollTop = element.scrollHeight
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [])

  const { hasMore, loadingOlder } = view
  const loadOlder = useCallback(() => {
    if (!hasMore || loadingOlder) return
    client.loadOlder(room).catch(() => {
      // The room view carries the error for people; nothing more to do here.
    })
  }, [client, room, hasMore, loadingOlder])

  function onScroll() {
    const element = scroller.current
    if (!element) return
    const bottom = element.scrollHeight - element.scrollTop - element.clientHeight < EDGE_PX
    atBottomRef.current = bottom
    setAtBottom(bottom)
    if (element.scrollTop < EDGE_PX && element.scrollHeight > element.clientHeight) loadOlder()
  }

  // The newest message is on screen: move the read marker to it.
  const markedSeq = useRef(0)
  useEffect(() => {
    if (!atBottom || !visible || lastSeq <= markedSeq.current) return
    markedSeq.current = lastSeq
    client.markRead(room, lastSeq)
  }, [client, room, atBottom, visible, lastSeq])

  const retry = useCallback((clientId: string) => client.retry(room, clientId), [client, room])

  return (
    <div className="log-wrap">
      <div
        ref={scroller}
        role="log"
        aria-label="Messages"
        aria-busy={view.status === 'joining' || undefined}
        className="log"
        tabIndex={0}
        onScroll={onScroll}
      >
        {hasMore ? (
          <div className="log-top">
            <button type="button" className="small-button" onClick={loadOlder} disabled={loadingOlder} aria-busy={loadingOlder || undefined}>
              Load older messages
            </button>
          </div>
        ) : (
          view.status === 'joined' &&
          view.messages.length > 0 && <p className="log-start muted small">This is the start of #{room}.</p>
        )}
        {entries.length === 0 && (
          <p className="log-empty muted">
            {view.status === 'joining' ? 'Loading messages…' : `No messages in #${room} yet. Say hello!`}
          </p>
        )}
        <ul className="messages">
          {entries.map((entry) => (
            <MessageItem key={entry.key} entry={entry} own={entry.message.author.id === user.id} onRetry={retry} />
          ))}
        </ul>
      </div>
      {hasUnseen && (
        <button type="button" className="jump" onClick={scrollToBottom}>
          New messages ↓
        </button>
      )}
    </div>
  )
}
