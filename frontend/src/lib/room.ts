// One room this tab keeps joined (after Phoenix's channel.js): it joins on every
// (re)connect, resuming with `since_rev` = the highest room revision applied
// (or, from a server without revisions, `since` = the highest seq held), pages
// a long catch-up, asks `changes` when a live change skips a revision (or fills
// holes in seq with `history` from a v1 server), and loads older pages on demand. Outbox and unread bookkeeping live with the client,
// which hears of every join and every message through the RoomHost.
import { highestSeq, holesToFill, lowestSeq, mergeMessages, notOlderThanHeld, skipsAhead, type Gap } from './messages'
import type { ChangesFrame, HistoryFrame, JoinedFrame, RequestFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { NO_REVISIONS, caughtUpTo, liveRevision, missedChange, type Revisions } from './revs'
import { RoomSlice } from './roomSlice'
import { createStore, type WritableStore } from './store'
import { HISTORY_MAX_LIMIT, HISTORY_PAGE_SIZE } from './timing'
import type { Message, PendingChange, PendingMessage, RoomOpening, RoomView } from './types'

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
  name, status: 'joining', messages: [], pending: [], changes: [], hasMore: false, loadingOlder: false, error: null, opening: null,
  hasNewer: false, loadingNewer: false, target: null,
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
  /** The room revisions applied here. */
  private revisions: Revisions = NO_REVISIONS
  private fetchingChanges = false
  /** A `join` is on its way (or its catch-up pages are). */
  private joinAsked = false
  /** Jumps waiting for the join (settled). */
  private waiting: (() => void)[] = []
  /** Jumping, paging forward and back to the end while the log is a slice short of the end. */
  private readonly slice: RoomSlice

  constructor(readonly name: string, private readonly host: RoomHost) {
    this.store = createStore(emptyRoomView(name))
    this.slice = new RoomSlice({
      name,
      store: this.store,
      generation: () => this.generation,
      joined: () => this.isJoined,
      serverLast: () => this.serverLast,
      update: (patch) => this.update(patch),
      request: (frame) => this.host.request(frame),
      received: (messages) => this.host.received(this, messages),
      settled: () => this.settled(),
      attached: () => this.attached(),
    })
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

  /** Joins on the current socket, catching up from the highest revision (or seq) held. */
  async join(): Promise<void> {
    const generation = this.generation
    const sinceRev = this.revisions.held
    let since = sinceRev === null ? highestSeq(this.store.getState().messages) : null
    this.catchingUp = sinceRev !== null || since !== null
    this.joinAsked = true
    try {
      if (sinceRev !== null) {
        const frame = (await this.host.request({ type: 'join', room: this.name, since_rev: sinceRev })) as JoinedFrame
        if (generation !== this.generation) return
        this.joinedWith(frame, this.store.getState().hasMore)
        await this.pageChanges(frame, generation)
      } else {
        for (;;) {
          const frame = (await this.host.request(
            since === null ? { type: 'join', room: this.name } : { type: 'join', room: this.name, since },
          )) as JoinedFrame
          if (generation !== this.generation) return
          // Without since, has_more is about older messages; with it, about newer ones.
          this.joinedWith(frame, since === null ? frame.has_more : this.store.getState().hasMore)
          if (frame.rev !== undefined && since === null) this.revisions = caughtUpTo(this.revisions, frame.rev)
          const last = frame.messages[frame.messages.length - 1]
          if (since === null || !frame.has_more || !last) break
          since = last.seq
        }
        // A v1 catch-up pages up to the newest: a slice has reached the end.
        if (since !== null) this.slice.attach()
      }
    } catch (error) {
      if (generation !== this.generation) return
      this.failed(error)
      return
    } finally {
      if (generation === this.generation) {
        this.catchingUp = false
        this.joinAsked = false
        this.wake()
      }
    }
    if (missedChange(this.revisions)) await this.fetchChanges()
    else if (this.revisions.held === null) await this.fillGaps()
  }

  /**
   * Changes to messages older than the oldest held, while older pages remain,
   * are left out: that page brings them as they are when it is loaded, and a
   * lone old message in the log would hide the hole above it.
   */
  private held(incoming: readonly Message[]): readonly Message[] {
    const view = this.store.getState()
    let messages = incoming
    if (view.hasNewer) {
      // Newer than the slice: kept aside until paging forward reaches them.
      messages = this.slice.route(incoming)
    }
    return notOlderThanHeld(view, messages)
  }

  private joinedWith(frame: JoinedFrame, hasMore: boolean): void {
    this.update({
      messages: mergeMessages(this.store.getState().messages, this.held(frame.messages)),
      hasMore,
      status: 'joined',
      error: null,
    })
    this.isJoined = true
    this.wake()
    this.host.received(this, frame.messages)
    this.host.joined(this, frame)
  }

  /**
   * A `joined` with since_rev, or a `changes` answer, was applied: pages on
   * with `changes` while the server has more, then holds its revision.
   */
  private async pageChanges(first: { messages: Message[]; has_more: boolean; rev?: number }, generation: number): Promise<void> {
    let frame = first
    for (;;) {
      const last = frame.messages[frame.messages.length - 1]
      if (!frame.has_more || !last) {
        if (frame.rev !== undefined) this.revisions = caughtUpTo(this.revisions, frame.rev)
        return
      }
      // The answer holds the lowest revisions: everything up to its last one is applied.
      this.revisions = caughtUpTo(this.revisions, last.rev)
      frame = (await this.host.request({ type: 'changes', room: this.name, since_rev: last.rev })) as ChangesFrame
      if (generation !== this.generation) return
      this.applyChanges(frame.messages)
    }
  }

  private applyChanges(messages: readonly Message[]): void {
    this.update({ messages: mergeMessages(this.store.getState().messages, this.held(messages)) })
    this.host.received(this, messages)
  }

  /** Asks `changes` from the revision held until no live change is known to be missing. */
  private async fetchChanges(): Promise<void> {
    if (this.fetchingChanges || !this.isJoined || this.revisions.held === null) return
    this.fetchingChanges = true
    const generation = this.generation
    try {
      // Live changes newer than an answer may still be on their way; a second answer covers them.
      for (let round = 0; round < 3 && this.revisions.held !== null; round++) {
        const frame = (await this.host.request({ type: 'changes', room: this.name, since_rev: this.revisions.held })) as ChangesFrame
        if (generation !== this.generation) return
        this.applyChanges(frame.messages)
        await this.pageChanges(frame, generation)
        if (generation !== this.generation || !missedChange(this.revisions)) return
      }
    } catch (error) {
      if (generation === this.generation) console.warn(`chat: could not fetch the changes of ${this.name}`, error)
    } finally {
      if (generation === this.generation) this.fetchingChanges = false
    }
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
    this.fetchingChanges = false
    this.joinAsked = false
    this.update({ status: 'joining', loadingOlder: false, loadingNewer: false })
  }

  /** Left for good: out of the room until it is opened again (which joins it anew). */
  left(reason = 'You left this room.'): void {
    this.disconnected()
    this.update({ status: 'error', error: reason })
    this.wake()
  }

  // ---- messages -----------------------------------------------------------------------

  /** Whether the log as held here has the message `seq`. */
  holds(seq: number): boolean {
    const { messages } = this.store.getState()
    let low = 0
    let high = messages.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const found = messages[middle]!.seq
      if (found === seq) return true
      if (found < seq) low = middle + 1
      else high = middle - 1
    }
    return false
  }

  /**
   * A message in the room as it is now: from a live `message` or `update`
   * frame, or the answer to our own send, edit, delete or reaction.
   */
  receive(message: Message): void {
    const view = this.store.getState()
    const skips = skipsAhead(view, this.isJoined, message.seq)
    const within = this.held([message])
    // Set aside (a slice short of the end): still stored, so the outbox hears of it.
    if (within.length === 0 && view.hasNewer) this.host.received(this, [message])
    const messages = mergeMessages(view.messages, within)
    if (messages !== view.messages) {
      this.update({ messages })
      this.host.received(this, [message])
    }
    if (this.revisions.held !== null && message.rev > 0) {
      this.revisions = liveRevision(this.revisions, message.rev)
      if (missedChange(this.revisions) && !this.catchingUp) void this.fetchChanges()
      return
    }
    if (messages === view.messages) return
    if (skips && !this.catchingUp && !view.hasNewer) void this.fillGaps()
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
  catchUp(lastSeq: number, rev?: number): void {
    this.serverLast = Math.max(this.serverLast, lastSeq)
    if (this.catchingUp) return
    const held = this.revisions.held
    if (held !== null && rev !== undefined && rev > held) void this.fetchChanges()
    else void this.fillGaps()
  }

  /** The holes to fetch: inside the log, below it, and above it up to the server's newest. */
  private gaps(): Gap[] {
    return holesToFill(this.store.getState(), this.serverLast)
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

  /** Loads older pages until the message `seq` is held (a reply's original); whether it is. */
  async reveal(seq: number): Promise<boolean> {
    const generation = this.generation
    for (;;) {
      const view = this.store.getState()
      const oldest = lowestSeq(view.messages)
      if (oldest !== null && oldest <= seq) return view.messages.some((m) => m.seq === seq)
      if (!this.isJoined || !view.hasMore || oldest === null || view.loadingOlder) return false
      this.update({ loadingOlder: true })
      try {
        const page = await this.history(oldest, Math.min(HISTORY_MAX_LIMIT, oldest - seq + HISTORY_PAGE_SIZE))
        if (generation !== this.generation) return false
        this.update({ hasMore: page.has_more, loadingOlder: false })
      } catch {
        if (generation === this.generation) this.update({ loadingOlder: false })
        return false
      }
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

  // ---- a slice of the log: jumping to a message, paging forward, back to the end (roomSlice.ts) ----

  jumpTo(seq: number): Promise<boolean> {
    return this.slice.jumpTo(seq)
  }

  loadNewer(): Promise<void> {
    return this.slice.loadNewer()
  }

  jumpToLatest(): Promise<void> {
    return this.slice.jumpToLatest()
  }

  // ---- waiting for the join, and live again (the slice asks for both) ---------------------

  /** Resolves once the room is joined on the socket, or its join has failed. */
  private settled(): Promise<void> {
    // A room left earlier shows `error` until the join on its way is answered.
    if (this.isJoined || (this.store.getState().status === 'error' && !this.joinAsked)) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private wake(): void {
    const waiting = this.waiting
    this.waiting = []
    for (const resolve of waiting) resolve()
  }

  /** Live again: a hole between the slice and what came live is filled as any other. */
  private attached(): void {
    if (this.revisions.held === null) void this.fillGaps()
  }

  // ---- the rest of the view ------------------------------------------------------------

  setPending(pending: PendingMessage[]): void {
    this.update({ pending })
  }

  setChanges(changes: PendingChange[]): void {
    this.update({ changes })
  }

  setOpening(opening: RoomOpening | null): void {
    this.update({ opening })
  }

  reset(): void {
    this.disconnected()
    this.slice.reset()
    this.revisions = NO_REVISIONS
    this.store.setState(emptyRoomView(this.name))
  }
}
