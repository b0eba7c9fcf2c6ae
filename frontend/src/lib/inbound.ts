// What the server says, routed to the stores: every unasked frame comes through
// one door (`frame`) with one case per type, and a room's own news (joined,
// messages merged, refused) comes here from the Room. Replies to requests are
// handled where they were asked for.
import type { ChangeQueue } from './changes'
import type { Focus } from './focus'
import type { JoinedRooms } from './joinedRooms'
import type { NotifySettings } from './notifySettings'
import type { Outbox } from './outbox'
import { applyPresenceDiff, presenceFromSnapshot } from './presence'
import type { JoinedFrame, RoomInfo, ServerFrame } from './protocol'
import type { ReadMarkers } from './readMarkers'
import type { Room, RoomHost } from './room'
import type { RoomRegistry } from './roomRegistry'
import {
  isListed, roomFromServer, roomJoined, roomMessageSeen, roomOnline, roomRead, roomRemoved, roomsFromServer,
} from './rooms'
import type { RoomsRefresh } from './roomsRefresh'
import type { MessageSearch } from './search'
import type { WritableStore } from './store'
import type { Message, Notice, RoomSummary } from './types'

/** What the routing writes to: the client's stores and the modules that keep state. */
export interface InboundParts {
  rooms: WritableStore<RoomSummary[]>
  notice: WritableStore<Notice | null>
  registry: RoomRegistry
  joinedRooms: JoinedRooms
  focus: Focus
  roomsRefresh: RoomsRefresh
  readMarkers: ReadMarkers
  outbox: Outbox
  changes: ChangeQueue
  search: MessageSearch
  notifySettings: NotifySettings
  selfId(): number | null
}

/** A room's live seqs remembered as told: more than the server sends again after an outage (50 a room). */
const LIVE_SEQS_KEPT = 200

export class Inbound implements Omit<RoomHost, 'request'> {
  private noticeCount = 0
  /** Who hears of messages that arrive live (desktop notifications). */
  private readonly liveListeners = new Set<(message: Message) => void>()
  /** Per room, the seqs of the latest live messages the listeners heard of. */
  private readonly told = new Map<string, Set<number>>()

  constructor(private readonly parts: InboundParts) {}

  frame(frame: ServerFrame, answered: boolean): void {
    const { registry, rooms, notifySettings, outbox } = this.parts
    switch (frame.type) {
      case 'message': {
        // After a Redis outage the server may send a message again (docs/protocol.md):
        // the room keeps one copy, and the listeners hear of it once.
        const news = this.isNews(frame.message)
        this.message(frame.message)
        if (news) for (const listener of [...this.liveListeners]) listener(frame.message)
        return
      }
      case 'notify':
        return notifySettings.apply(frame)
      case 'update':
        return registry.room(frame.room).receive(frame.message)
      case 'sent':
        // Also when its request timed out: the message is stored, so it is no longer failed.
        this.message(frame.message)
        return outbox.acknowledge(frame.message.client_id)
      case 'typing':
        return registry.typing(frame.room).indicators.typing(frame.user, frame.active)
      case 'room':
        return this.roomInfo(frame.room)
      case 'room_removed':
        return this.roomRemoved(frame.room)
      case 'presence': {
        const next = applyPresenceDiff(registry.presence(frame.room).getState(), frame.joins, frame.leaves)
        registry.presence(frame.room).setState(next)
        rooms.setState((list) => roomOnline(list, frame.room, next.length))
        for (const user of frame.leaves) registry.typing(frame.room).indicators.clear(user.id)
        return
      }
      case 'error':
        if (!answered) console.warn(`chat: server error ${frame.code}: ${frame.detail}`)
        return
      default:
        // Replies are handled where they were asked for; a late one is of no use.
        return
    }
  }

  /** Hears of every message that arrives live; returns the unsubscribe. */
  onLive(listener: (message: Message) => void): () => void {
    this.liveListeners.add(listener)
    return () => {
      this.liveListeners.delete(listener)
    }
  }

  dispose(): void {
    this.liveListeners.clear()
    this.told.clear()
  }

  /** A live message neither told before nor held already (it came in a `joined` or `history`). */
  private isNews(message: Message): boolean {
    let seqs = this.told.get(message.room)
    if (seqs === undefined) this.told.set(message.room, (seqs = new Set()))
    if (seqs.has(message.seq) || this.parts.registry.room(message.room).holds(message.seq)) return false
    seqs.add(message.seq)
    // Insertion order: the first is the oldest told.
    if (seqs.size > LIVE_SEQS_KEPT) seqs.delete(seqs.values().next().value!)
    return true
  }

  // ---- a room's own news (RoomHost) ------------------------------------------------

  joined(r: Room, frame: JoinedFrame): void {
    const { registry, rooms, focus, outbox, changes, readMarkers, joinedRooms, roomsRefresh } = this.parts
    const users = presenceFromSnapshot(frame.presence)
    registry.presence(r.name).setState(users)
    const last = frame.messages[frame.messages.length - 1]
    rooms.setState((list) => roomJoined(list, r.name, last?.seq ?? null, users.length))
    if (r.name === focus.current) rooms.setState((list) => roomRead(list, r.name))
    outbox.flush()
    changes.flush()
    readMarkers.send(r.name)
    // Messages stored between the room's announcement and this join are counted by the server's list.
    if (joinedRooms.announced.delete(r.name)) roomsRefresh.request()
  }

  received(_room: Room, messages: readonly Message[]): void {
    const { outbox, search } = this.parts
    const me = this.parts.selfId()
    for (const m of messages) if (m.author.id === me && outbox.has(m.client_id)) outbox.acknowledge(m.client_id)
    search.seen(messages)
  }

  refused(room: Room, reason: string): void {
    const { joinedRooms, outbox, changes, rooms } = this.parts
    joinedRooms.opened.delete(room.name)
    outbox.failRoom(room.name, reason)
    changes.failRoom(room.name, reason)
    // Not open to this user (e.g. removed while this tab was away): not theirs to list either.
    rooms.setState((list) => roomRemoved(list, room.name))
  }

  // ---- the room list -----------------------------------------------------------------

  /** The server's answer to `rooms`. */
  roomsListed(infos: readonly RoomInfo[]): void {
    const { registry, rooms, focus, joinedRooms } = this.parts
    focus.takeOpening(infos)
    rooms.setState((list) => roomsFromServer(list, infos, focus.current))
    for (const info of infos) {
      // Keep every room we belong to joined, so its unread count and presence stay live,
      if (info.member && !joinedRooms.forgotten.has(info.name)) joinedRooms.open(info.name)
      // and complete from the store what live frames never brought.
      if (joinedRooms.opened.has(info.name)) registry.room(info.name).catchUp(info.last_seq, info.rev)
    }
  }

  private message(message: Message): void {
    const { registry, rooms, focus, roomsRefresh } = this.parts
    // A room this tab does not list (made or opened elsewhere): the server's list has it.
    if (!isListed(rooms.getState(), message.room)) roomsRefresh.request()
    registry.room(message.room).receive(message)
    rooms.setState((list) => roomMessageSeen(list, message, this.parts.selfId(), focus.current))
    registry.typing(message.room).indicators.clear(message.author.id)
  }

  /** The server's word on one room: it entered this user's list, or was left for good (on any tab). */
  private roomInfo(info: RoomInfo): void {
    const { rooms, focus, joinedRooms } = this.parts
    const isNew = !isListed(rooms.getState(), info.name)
    rooms.setState((list) => roomFromServer(list, info, focus.current))
    if (!info.member) return joinedRooms.forget(info.name)
    // Invited, or a dm someone else opened: keep it joined so its messages count as unread live.
    joinedRooms.forgotten.delete(info.name)
    if (isNew || !joinedRooms.opened.has(info.name)) {
      joinedRooms.announced.add(info.name)
      joinedRooms.open(info.name)
    }
  }

  /** This user lost a private room (removed, or left it for good on another tab). */
  private roomRemoved(name: string): void {
    const { rooms, focus, joinedRooms, notice } = this.parts
    // Left here (leave with forget): the person knows; another tab of theirs hears it.
    const leftHere = joinedRooms.forgotten.has(name)
    const wasListed = isListed(rooms.getState(), name)
    rooms.setState((list) => roomRemoved(list, name))
    joinedRooms.forget(name, leftHere ? 'You left this room.' : 'You are no longer a member of this room.')
    if (!leftHere && (wasListed || name === focus.current)) {
      notice.setState({ id: ++this.noticeCount, text: `You are no longer a member of ${name}.`, room: name })
    }
  }
}
