// A room's log while it is a slice short of the live end (opened at an old
// message): jumping to a message, paging forward, and back to the end. Messages
// newer than the slice that arrive meanwhile are kept aside (see slice.ts).
import { highestSeq, mergeMessages } from './messages'
import type { HistoryFrame, RequestFrame, ServerFrame } from './protocol'
import { newestKnown, pageForward, routeIncoming, sliceAround, sliceAtEnd } from './slice'
import type { WritableStore } from './store'
import { HISTORY_PAGE_SIZE, JUMP_CONTEXT } from './timing'
import type { Message, RoomView } from './types'

/** What the slice needs of its Room. */
export interface SliceHost {
  readonly name: string
  readonly store: WritableStore<RoomView>
  /** Bumped whenever the socket goes away: replies to older requests are stale. */
  generation(): number
  joined(): boolean
  /** The newest seq the server has said the room holds (a `rooms` answer). */
  serverLast(): number
  update(patch: Partial<RoomView>): void
  request(frame: RequestFrame): Promise<ServerFrame>
  /** Messages went into the log (to reconcile the outbox). */
  received(messages: readonly Message[]): void
  /** Resolves once the room is joined on the socket, or its join has failed. */
  settled(): Promise<void>
  /** Live again: a hole between the slice and what came live is filled as any other. */
  attached(): void
}

/** Each jump's target gets its own id, so asking for the same message again shows it again. */
let jumpCount = 0

export class RoomSlice {
  /** Newer messages kept aside while the log is a slice short of the end (see slice.ts). */
  private aside: Message[] = []
  /** The jump on its way, by its target: asking for the same one again waits for it. */
  private jumping: { seq: number; done: Promise<boolean> } | null = null

  constructor(private readonly room: SliceHost) {}

  /** Of messages arriving while the log is a slice, the ones within it; the newer ones go aside. */
  route(incoming: readonly Message[]): readonly Message[] {
    const routed = routeIncoming({ messages: this.room.store.getState().messages, aside: this.aside }, incoming)
    this.aside = routed.aside
    return routed.within
  }

  /** Shows the message `seq`: held, it becomes the target; else the log becomes the slice around it. */
  jumpTo(seq: number): Promise<boolean> {
    if (this.jumping?.seq === seq) return this.jumping.done
    const done = this.jump(seq).finally(() => {
      if (this.jumping?.done === done) this.jumping = null
    })
    this.jumping = { seq, done }
    return done
  }

  private async jump(seq: number): Promise<boolean> {
    const room = this.room
    await room.settled()
    if (!room.joined()) return false
    const generation = room.generation()
    const holds = () => room.store.getState().messages.some((m) => m.seq === seq)
    if (!holds()) {
      try {
        const [older, newer] = await Promise.all([
          room.request({ type: 'history', room: room.name, before: seq + 1, limit: JUMP_CONTEXT }) as Promise<HistoryFrame>,
          room.request({ type: 'history', room: room.name, after: seq, limit: JUMP_CONTEXT }) as Promise<HistoryFrame>,
        ])
        if (generation !== room.generation()) return false
        const view = room.store.getState()
        const slice = sliceAround(view.messages, older.messages, newer.messages, !newer.has_more)
        this.aside = mergeMessages(this.aside, slice.aside)
        room.update({ messages: slice.messages, hasMore: older.has_more, hasNewer: newer.has_more, error: null })
        room.received([...older.messages, ...newer.messages])
        if (!newer.has_more) this.attach()
      } catch (error) {
        if (generation !== room.generation()) return false
        const text = error instanceof Error ? error.message : String(error)
        room.update({ error: `Could not open that message: ${text}` })
        return false
      }
    }
    room.update({ target: { seq, id: ++jumpCount } })
    return holds()
  }

  /** Fetches the page after the newest message of a slice; the last page makes the log live. */
  async loadNewer(): Promise<void> {
    const room = this.room
    const view = room.store.getState()
    const newest = highestSeq(view.messages)
    if (!room.joined() || !view.hasNewer || view.loadingNewer || newest === null) return
    const generation = room.generation()
    room.update({ loadingNewer: true })
    try {
      const page = (await room.request({ type: 'history', room: room.name, after: newest, limit: HISTORY_PAGE_SIZE })) as HistoryFrame
      if (generation !== room.generation()) return
      const next = pageForward({ messages: room.store.getState().messages, aside: this.aside }, page.messages, page.has_more)
      this.aside = next.aside
      room.update({ messages: next.messages, hasNewer: !next.attached, loadingNewer: false, error: null })
      room.received(page.messages)
      if (next.attached) room.attached()
    } catch (error) {
      if (generation !== room.generation()) return
      const text = error instanceof Error ? error.message : String(error)
      room.update({ loadingNewer: false, error: `Could not load newer messages: ${text}` })
    }
  }

  /** Back to the live end: the newest page and what was set aside meanwhile. */
  async jumpToLatest(): Promise<void> {
    const room = this.room
    const view = room.store.getState()
    if (!room.joined() || !view.hasNewer) return
    const generation = room.generation()
    const newest = newestKnown({ messages: view.messages, aside: this.aside }, room.serverLast())
    room.update({ loadingNewer: true })
    try {
      const page = (await room.request({ type: 'history', room: room.name, before: newest + 1, limit: HISTORY_PAGE_SIZE })) as HistoryFrame
      if (generation !== room.generation() || !room.store.getState().hasNewer) return
      const messages = sliceAtEnd(this.aside, page.messages)
      this.aside = []
      room.update({ messages, hasMore: page.has_more, hasNewer: false, loadingNewer: false, error: null })
      room.received(page.messages)
      room.attached()
    } catch (error) {
      if (generation !== room.generation()) return
      const text = error instanceof Error ? error.message : String(error)
      room.update({ loadingNewer: false, error: `Could not load the latest messages: ${text}` })
    }
  }

  /** The slice reached the end some other way (a v1 catch-up, a jump near the end): join up what was aside. */
  attach(): void {
    const view = this.room.store.getState()
    if (!view.hasNewer && this.aside.length === 0) return
    const next = pageForward({ messages: view.messages, aside: this.aside }, [], false)
    this.aside = []
    this.room.update({ messages: next.messages, hasNewer: false, loadingNewer: false })
    this.room.attached()
  }

  reset(): void {
    this.aside = []
    this.jumping = null
  }
}
