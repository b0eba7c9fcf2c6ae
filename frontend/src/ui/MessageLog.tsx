import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual'
import type { Message, PendingChange, RoomView, User } from '../lib'
import { useServices } from './context'
import { dayLabel } from './days'
import { DeleteMessageDialog } from './DeleteMessageDialog'
import { EmojiPicker } from './EmojiPicker'
import { LogBottom, LogEmpty, LogTop } from './LogEdges'
import { MessageItem, type MessageActions } from './MessageItem'
import { estimateRow } from './rowHeight'
import { countNewer, firstUnreadSeq } from './unread'
import { useHighlight } from './useHighlight'
import { usePageVisible } from './usePageVisible'
import { useToday } from './useToday'
import { storedLog, withPending } from './view'

/** Within this many pixels of an edge counts as being at it. */
const EDGE_PX = 48
/** Rows rendered beyond each edge of the screen, so a quick scroll shows no gap. */
const OVERSCAN_ROWS = 8
const NO_CHANGES: readonly PendingChange[] = []

interface Props {
  room: string
  /** How the room is called to people: `#name`, or a dm's other members. */
  label: string
  user: User
  view: RoomView
  /** I may delete others' messages here (the room's owner, or staff). */
  canModerate: boolean
  /** Reply to this message (the composer shows `Replying to`). */
  onReply(message: Message): void
}

/**
 * The room's messages as a virtual list: only the rows on screen (and a few
 * beyond) are in the DOM, each measured as it renders. The list stays at the
 * bottom while the reader is there, and keeps the row they read in place when
 * older pages go in above it.
 */
export function MessageLog({ room, label, user, view, canModerate, onReply }: Props) {
  const { client, route } = useServices()
  const fromStart = !view.hasMore
  // Rebuilt only when stored messages change: one's own message on its way adds a row, no more.
  const stored = useMemo(() => storedLog(view.messages, { fromStart }), [view.messages, fromStart])
  const entries = useMemo(() => withPending(stored, view.pending), [stored, view.pending])
  const today = useToday()
  const unreadSeq = firstUnreadSeq(view.messages, view.opening, user.id, view.hasMore)
  const unreadKey = useMemo(
    () => (unreadSeq === null ? null : (stored.entries.find((e) => e.kind === 'stored' && e.message.seq === unreadSeq)?.key ?? null)),
    [stored, unreadSeq],
  )
  const scroller = useRef<HTMLDivElement>(null)
  const list = useRef<HTMLUListElement>(null)
  const [atBottom, setAtBottom] = useState(true)
  const atBottomRef = useRef(true)
  /** Scrolled up by more than a screen. */
  const [far, setFar] = useState(false)
  const visible = usePageVisible()
  const lastSeq = view.messages.at(-1)?.seq ?? 0
  const { hasMore, loadingOlder, hasNewer, loadingNewer } = view

  // The newest seq the reader has seen at the bottom; anything newer arrived meanwhile.
  const [seenSeq, setSeenSeq] = useState(lastSeq)
  if (atBottom && seenSeq !== lastSeq) setSeenSeq(lastSeq)
  const arrived = atBottom ? 0 : countNewer(view.messages, seenSeq)

  // Where the list starts inside the scroller: below "Load older messages", and
  // lower while the rows do not fill the screen (they sit at the bottom).
  const [listTop, setListTop] = useState(0)
  const measureListTop = useCallback(() => setListTop(list.current?.offsetTop ?? 0), [])

  // A row holding keyboard focus stays rendered when scrolled away, so focus is never dropped.
  const focusedKey = useRef<string | null>(null)
  const entriesRef = useRef(entries)
  entriesRef.current = entries
  const rangeExtractor = useCallback((range: Range) => {
    const indexes = defaultRangeExtractor(range)
    const key = focusedKey.current
    if (key === null) return indexes
    const focused = entriesRef.current.findIndex((entry) => entry.key === key)
    if (focused < 0 || indexes.includes(focused)) return indexes
    return [...indexes, focused].sort((a, b) => a - b)
  }, [])

  // The compiler cannot memoize around the virtualizer's methods; this component is not compiled.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => estimateRow(entries[index], unreadKey),
    getItemKey: (index) => entries[index]?.key ?? index,
    overscan: OVERSCAN_ROWS,
    scrollMargin: listTop,
    rangeExtractor,
    // A chat log: rows prepended above keep the reader's row in place, and
    // rows appended while at the end are followed.
    anchorTo: 'end',
    // A slice short of the live end (opened at a search result) grows by pages
    // below the reader: they stay where they are, and scroll on to fetch more.
    followOnAppend: !hasNewer,
    scrollEndThreshold: EDGE_PX,
  })

  const scrollToBottom = useCallback(() => {
    const element = scroller.current
    if (!element) return
    atBottomRef.current = true
    setAtBottom(true)
    setFar(false)
    virtualizer.scrollToEnd()
  }, [virtualizer])

  // Open at the newest message.
  const opened = useRef(false)
  useLayoutEffect(() => {
    if (opened.current || entries.length === 0) return
    opened.current = true
    virtualizer.scrollToEnd()
  }, [entries.length, virtualizer])

  // Opened with more unread than the screen shows: start at the New messages
  // line rather than below it, unless the reader has already moved.
  const lineShown = useRef(false)
  useLayoutEffect(() => {
    const element = scroller.current
    if (lineShown.current || unreadKey === null || !element) return
    lineShown.current = true
    const index = entries.findIndex((entry) => entry.key === unreadKey)
    // Where the line's row and the log's end are in the list, as laid out so
    // far. Not the scroller's offsets: while the scroller has not grown to the
    // list's height yet (a busy machine), they are clamped to what it holds,
    // and the line looked as if it were already on the screen.
    const lineTop = index < 0 ? undefined : virtualizer.measurementsCache[index]?.start
    const end = virtualizer.measurementsCache.at(-1)?.end ?? 0
    if (lineTop === undefined || !atBottomRef.current || lineTop >= end - element.clientHeight) return
    atBottomRef.current = false
    setAtBottom(false)
    virtualizer.scrollToIndex(index, { align: 'start' })
  }, [entries, unreadKey, virtualizer])

  // Rows that go in while the reader is at the newest (a catch-up filling a hole
  // below their own message) keep them at the newest.
  const rowCount = useRef(entries.length)
  useLayoutEffect(() => {
    if (entries.length > rowCount.current && atBottomRef.current && opened.current && !hasNewer) virtualizer.scrollToEnd()
    rowCount.current = entries.length
  }, [entries.length, virtualizer, hasNewer])

  // One's own new message is shown wherever the reader was.
  const lastKey = useRef(entries.at(-1)?.key)
  useLayoutEffect(() => {
    const last = entries.at(-1)
    if (last?.kind === 'pending' && last.key !== lastKey.current && (!atBottomRef.current || hasNewer)) jumpToLatest()
    lastKey.current = last?.key
  })

  // The composer growing or the window resizing must not unstick the bottom.
  useEffect(() => {
    const element = scroller.current
    if (!element || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => {
      measureListTop()
      if (atBottomRef.current) element.scrollTop = element.scrollHeight
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [measureListTop])

  const loadNewer = useCallback(() => {
    if (!hasNewer || loadingNewer) return
    client.loadNewer(room).catch(() => {
      // The room view carries the error for people.
    })
  }, [client, room, hasNewer, loadingNewer])

  /** Back to the newest message: a slice short of the end is replaced by the live end first. */
  function jumpToLatest() {
    if (!hasNewer) return scrollToBottom()
    route.clearTarget()
    client.jumpToLatest(room).then(
      () => window.requestAnimationFrame(scrollToBottom),
      () => {},
    )
  }

  const loadOlder = useCallback(() => {
    if (!hasMore || loadingOlder) return
    client.loadOlder(room).catch(() => {
      // The room view carries the error for people; nothing more to do here.
    })
  }, [client, room, hasMore, loadingOlder])

  function onScroll() {
    const element = scroller.current
    if (!element) return
    const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight
    const bottom = fromBottom < EDGE_PX
    atBottomRef.current = bottom
    setAtBottom(bottom)
    setFar(fromBottom > element.clientHeight)
    if (element.scrollTop < EDGE_PX && element.scrollHeight > element.clientHeight) loadOlder()
    if (bottom && hasNewer) loadNewer()
  }

  // The newest message is on screen: move the read marker to it.
  const markedSeq = useRef(0)
  useEffect(() => {
    if (!atBottom || !visible || lastSeq <= markedSeq.current) return
    markedSeq.current = lastSeq
    client.markRead(room, lastSeq)
  }, [client, room, atBottom, visible, lastSeq])

  // Changes on their way, by the seq they change; a row without any gets the same empty list.
  const changesBySeq = useMemo(() => {
    const bySeq = new Map<number, PendingChange[]>()
    for (const change of view.changes) bySeq.set(change.seq, [...(bySeq.get(change.seq) ?? []), change])
    return bySeq
  }, [view.changes])
  const [picking, setPicking] = useState<number | null>(null)
  const [deleting, setDeleting] = useState<number | null>(null)
  const [highlight, setHighlight] = useHighlight()
  const onReplyRef = useRef(onReply)
  onReplyRef.current = onReply

  // The message the room was opened at (a search result): scrolled to, highlighted
  // for a moment and focused, so a screen reader reads it. A target set before
  // this log was shown is an old one.
  const shownTarget = useRef(view.target?.id ?? null)
  const [focusSeq, setFocusSeq] = useState<number | null>(null)
  useLayoutEffect(() => {
    const target = view.target
    if (!target || shownTarget.current === target.id) return
    const index = entries.findIndex((e) => e.kind === 'stored' && e.message.seq === target.seq)
    if (index < 0) return
    shownTarget.current = target.id
    opened.current = true
    atBottomRef.current = false
    setAtBottom(false)
    virtualizer.scrollToIndex(index, { align: 'center' })
    setHighlight(target.seq)
    setFocusSeq(target.seq)
    // Focused once the row is rendered where it belongs.
    window.requestAnimationFrame(() => {
      scroller.current?.querySelector<HTMLElement>(`[data-seq="${target.seq}"] .message`)?.focus({ preventScroll: true })
    })
  }, [view.target, entries, virtualizer, setHighlight])

  const actions = useMemo<MessageActions>(() => ({
    reply: (message) => onReplyRef.current(message),
    pickReaction: setPicking,
    react: (seq, emoji, active) => client.change(room, seq, { kind: 'react', emoji, active }),
    edit: (seq, body) => client.change(room, seq, { kind: 'edit', body }),
    confirmDelete: setDeleting,
    async showOriginal(seq) {
      if (!(await client.reveal(room, seq))) return
      // The log re-renders with the page loaded before the row can be found.
      window.requestAnimationFrame(() => {
        const index = entriesRef.current.findIndex((e) => e.kind === 'stored' && e.message.seq === seq)
        if (index < 0) return
        atBottomRef.current = false
        setAtBottom(false)
        virtualizer.scrollToIndex(index, { align: 'center' })
        setHighlight(seq)
      })
    },
    retryChange: (id) => client.retryChange(room, id),
    discardChange: (id) => client.discardChange(room, id),
    retry: (clientId) => client.retry(room, clientId),
  }), [client, room, virtualizer, setHighlight])

  const rows = virtualizer.getVirtualItems()
  const totalSize = virtualizer.getTotalSize()
  const empty = entries.length === 0
  useLayoutEffect(measureListTop, [measureListTop, totalSize, hasMore, view.status, empty])
  const showJump = far || arrived > 0 || hasNewer

  return (
    <div className="log-wrap">
      <div
        ref={scroller}
        id="messages"
        role="log"
        aria-label="Messages"
        aria-busy={view.status === 'joining' || undefined}
        className="log"
        tabIndex={0}
        onScroll={onScroll}
      >
        <LogTop view={view} label={label} onLoadOlder={loadOlder} />
        {entries.length === 0 && <LogEmpty view={view} label={label} />}
        <ul
          ref={list}
          className="messages"
          style={{ height: totalSize }}
          onFocus={(event) => {
            focusedKey.current = (event.target as Element).closest('[data-key]')?.getAttribute('data-key') ?? null
          }}
          onBlur={(event) => {
            if (!event.currentTarget.contains(event.relatedTarget)) focusedKey.current = null
          }}
        >
          {rows.map((row) => {
            const entry = entries[row.index]!
            return (
              <MessageItem
                key={row.key}
                entry={entry}
                me={user}
                canModerate={canModerate}
                changes={(entry.kind === 'stored' && changesBySeq.get(entry.message.seq)) || NO_CHANGES}
                actions={actions}
                highlighted={entry.kind === 'stored' && entry.message.seq === highlight}
                focusable={entry.kind === 'stored' && entry.message.seq === focusSeq}
                index={row.index}
                setSize={entries.length}
                offset={row.start - listTop}
                measure={virtualizer.measureElement}
                dayText={entry.startsDay ? dayLabel(entry.day, today) : null}
                unreadLine={entry.key === unreadKey}
              />
            )
          })}
        </ul>
        {hasNewer && <LogBottom loadingNewer={loadingNewer} onLoadNewer={loadNewer} />}
      </div>
      {picking !== null && (
        <EmojiPicker
          onPick={(emoji) => {
            const message = view.messages.find((m) => m.seq === picking)
            const mine = message?.reactions.some((r) => r.emoji === emoji && r.users.some((u) => u.id === user.id))
            if (!mine) client.change(room, picking, { kind: 'react', emoji, active: true })
            setPicking(null)
          }}
          onClose={() => setPicking(null)}
        />
      )}
      {deleting !== null && (
        <DeleteMessageDialog
          onConfirm={() => {
            client.change(room, deleting, { kind: 'delete' })
            setDeleting(null)
          }}
          onClose={() => setDeleting(null)}
        />
      )}
      {showJump && (
        <button type="button" className="jump" onClick={jumpToLatest}>
          {arrived > 0 ? `Jump to latest, ${arrived} new` : 'Jump to latest'}
        </button>
      )}
    </div>
  )
}
