// One room this tab keeps joined (after Phoenix's channel.js): it joins on every
// (re)connect, resuming with `since` = the highest seq held, pages a long
// catch-up, fills holes a dropped live frame leaves with `history`, and loads
// older pages on demand. Outbox and unread bookkeeping live with the client,
// which hears of every join and every message through the RoomHost.
import { findGaps, highestSeq, lowestSeq, mergeMessages, type Gap } from './messages'
import type { HistoryFrame, JoinedFrame, RequestFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { createStore, type WritableStore } from './store'
import { HISTORY_MAX_LIMIT, HISTORY_PAGE_SIZE } from './timing'
import type { Message, PendingMessage, RoomOpening, RoomView } from './types'

export interface RoomHost {
  request(frame: RequestFrame): Promise<ServerFrame>
  /** A `joined` arrived (presence snapshot, room summary, outbox flush). */
  joined(room: Room, frame: JoinedFrame): void
  /** Messages were merged into the log (to reconcile the outbox). */
  received(room: Room, messages: readonly Message[]): void
  /** The server refused the room for good (bad name, forbidden): stop keeping it joined. */
  refused(room: Room, reason: string): void
}

/** What a room this user may not read says of itself: nothing (the same for one that does not exist). */
export const ROOM_REFUSED = 'This room does not exist or you may not read it.'

export const emptyRoomView = (name: string): RoomView => ({
  name, status: 'joining', messages: [], pending: [], hasMore: false, loadingOlder: false, error: null, opening: null,
})

export class Room {
  readonly store: WritableStore<RoomView>
  /** Bumped whenever the socket goes away: replies to older requests are stale. */
  private generation = 0
  private isJoined = false
  private catchingUp = false
  private fillingGaps = false
  /** The newest seq the server has said the room holds (a `rooms` answer). */
  private serverLast = 0

  constructor(readonly name: string, private readonly host: RoomHost) {
    this.store = createStore(emptyRoomView(name))
  }

  get joinedOnSocket(): boolean {
    return this.isJoined
  }

  private update(patch: Partial<RoomView>): void {
    this.store.setState((view) => {
      const keys = Object.keys(patch) as (keyof RoomView)[]
      return keys.some((k) => view[k] !== patch[k]) ? { ...view, ...patch } : view
    })
  }

  // ---- joining ---------------------------------------------------------------------

  /** Joins on the current socket, catching up from the highest seq held. */
  async join(): Promise<void> {
    const generation = this.generation
    let since = highestSeq(this.store.getState().messages)
    this.catchingUp = since !== null
    try {
      for (;;) {
        const frame = (await this.host.request(
          since === null ? { type: 'join', room: this.name } : { type: 'join', room: this.name, since },
        )) as JoinedFrame
        if (generation !== this.generation) return
        const view = this.store.getState()
        // Without since, has_more is about older messages; with it, about newer ones.
        this.update({
          messages: mergeMessages(view.messages, frame.messages),
          hasMore: since === null ? frame.has_more : view.hasMore,
          status: 'joined',
          error: null,
        })
        this.isJoined = true
        this.host.received(this, frame.messages)
        this.host.joined(this, frame)
        const last = frame.messages[frame.messages.length - 1]
        if (since === null || !frame.has_more || !last) break
        since = last.seq
      }
    } catch (error) {
      if (generation !== this.generation) return
      this.failed(error)
      return
    } finally {
      if (generation === this.generation) this.catchingUp = false
    }
    await this.fillGaps()
  }

  private failed(error: unknown): void {
    if (!(error instanceof PushError) || error.code === 'disconnected') return
    // A forbidden room says nothing of itself, not even the server's detail.
    const reason = error.code === 'forbidden' ? ROOM_REFUSED : error.message || 'Cannot open this room'
    this.update({ status: 'error', error: reason })
    if (error.code === 'invalid_room' || error.code === 'forbidden') this.host.refused(this, reason)
  }

  /** The socket is gone: the room must be joined again on the next one. */
  disconnected(): void {
    this.generation += 1
    this.isJoined = false
    this.catchingUp = false
    this.fillingGaps = false
    this.update({ status: 'joining', loadingOlder: false })
  }

  /** Left for good: out of the room until it is opened again (which joins it anew). */
  left(reason = 'You left this room.'): void {
    this.disconnected()
    this.update({ status: 'error', error: reason })
  }

  // ---- messages -----------------------------------------------------------------------

  /** A message in the room: from a live `message` frame, or our own `sent`. */
  receive(message: Message): void {
    const view = this.store.getState()
    // An empty log with nothing older held every message there was: the next one is seq 1.
    const top = highestSeq(view.messages) ?? (this.isJoined && !view.hasMore ? 0 : null)
    const messages = mergeMessages(view.messages, [message])
    if (messages === view.messages) return
    this.update({ messages })
    this.host.received(this, [message])
    if (top !== null && message.seq > top + 1 && !this.catchingUp) void this.fillGaps()
  }

  /** Fetches every hole in the log with `history`, newest part of each hole first. */
  private async fillGaps(): Promise<void> {
    if (this.fillingGaps || !this.isJoined) return
    this.fillingGaps = true
    const generation = this.generation
    try {
      // Each pass fills the holes it saw; a pass that fetches nothing ends the loop.
      for (let progress = true; progress; ) {
        progress = false
        for (const gap of this.gaps()) {
          let before = gap.to + 1
          while (before > gap.from) {
            const limit = Math.min(HISTORY_MAX_LIMIT, before - gap.from)
            const page = await this.history(before, limit)
            if (generation !== this.generation) return
            const first = page.messages[0]
            if (!first) break
            progress = true
            before = first.seq
          }
        }
      }
    } catch (error) {
      if (generation === this.generation) console.warn(`chat: could not fill a gap in ${this.name}`, error)
    } finally {
      if (generation === this.generation) this.fillingGaps = false
    }
  }

  /**
   * The server holds messages up to `lastSeq` (a `rooms` answer). Live frames
   * the channel layer dropped, with nothing sent since to reveal the hole, are
   * fetched now.
   */
  catchUp(lastSeq: number): void {
    this.serverLast = Math.max(this.serverLast, lastSeq)
    if (!this.catchingUp) void this.fillGaps()
  }

  /**
   * The holes in the log; the one below it when nothing older is said to
   * exist; and the one above it up to the newest seq the server has named.
   */
  private gaps(): Gap[] {
    const { messages, hasMore } = this.store.getState()
    const lowest = lowestSeq(messages)
    const highest = highestSeq(messages) ?? (hasMore ? null : 0)
    const leading = !hasMore && lowest !== null && lowest > 1 ? [{ from: 1, to: lowest - 1 }] : []
    const trailing = highest !== null && this.serverLast > highest ? [{ from: highest + 1, to: this.serverLast }] : []
    return [...leading, ...findGaps(messages), ...trailing]
  }

  /** Fetches the page before the oldest message held. */
  async loadOlder(): Promise<void> {
    const view = this.store.getState()
    const oldest = lowestSeq(view.messages)
    if (!this.isJoined || view.loadingOlder || !view.hasMore || oldest === null) return
    const generation = this.generation
    this.update({ loadingOlder: true })
    try {
      const page = await this.history(oldest, HISTORY_PAGE_SIZE)
      if (generation !== this.generation) return
      this.update({ hasMore: page.has_more, loadingOlder: false, error: null })
    } catch (error) {
      if (generation !== this.generation) return
      const text = error instanceof Error ? error.message : String(error)
      this.update({ loadingOlder: false, error: `Could not load older messages: ${text}` })
    }
  }

  private async history(before: number, limit: number): Promise<HistoryFrame> {
    const generation = this.generation
    const page = (await this.host.request({ type: 'history', room: this.name, before, limit })) as HistoryFrame
    if (generation === this.generation) {
      this.update({ messages: mergeMessages(this.store.getState().messages, page.messages) })
      this.host.received(this, page.messages)
    }
    return page
  }

  setPending(pending: PendingMessage[]): void {
    this.update({ pending })
  }

  setOpening(opening: RoomOpening | null): void {
    this.update({ opening })
  }

  reset(): void {
    this.disconnected()
    this.store.setState(emptyRoomView(this.name))
  }
}
