// The person's requests about rooms themselves: create, dm, invite, remove,
// topic (version 2), and leave for good. The dialogs' requests wait for a
// reconnecting socket; each resolves once the server has done it, and rejects
// with its error.
import type { JoinedRooms } from './joinedRooms'
import type { InvitedFrame, JoinedFrame, RemovedFrame, RequestFrame, RoomInfo, ServerFrame } from './protocol'
import { isListed, roomFromServer, roomLeft, roomMembers } from './rooms'
import type { RoomsRefresh } from './roomsRefresh'
import type { WritableStore } from './store'
import type { RoomSummary, User } from './types'

export interface RoomActionsParts {
  /** A request made now; fails at once when the socket is down. */
  request(frame: RequestFrame): Promise<ServerFrame>
  /** A request that waits for a reconnecting socket (Socket.requestWhenConnected). */
  requestWhenConnected(frame: RequestFrame): Promise<ServerFrame>
  rooms: WritableStore<RoomSummary[]>
  joinedRooms: JoinedRooms
  roomsRefresh: RoomsRefresh
  /** The room being read, or null. */
  focused(): string | null
  user(): User | null
  /** The person is no longer typing in the room. */
  stopTyping(room: string): void
}

export class RoomActions {
  constructor(private readonly parts: RoomActionsParts) {}

  /** Leaves the room for good (`leave` with `forget`): not a member any more, on every tab. */
  async leave(name: string): Promise<void> {
    const { joinedRooms } = this.parts
    joinedRooms.stopKeeping(name)
    this.parts.stopTyping(name)
    try {
      await this.parts.request({ type: 'leave', room: name, forget: true })
    } catch (error) {
      // Not left (no connection, refused): the room stays as it was.
      joinedRooms.reopen(name)
      throw error
    }
    this.parts.rooms.setState((list) => roomLeft(list, name))
    joinedRooms.forget(name)
  }

  // ---- rooms of version 2: create, dm, invite, remove, topic ---------------------------
  // Each is asked from a dialog: made during a reconnect, it waits for the socket.

  async create(name: string, kind: 'public' | 'private', topic: string): Promise<void> {
    const me = this.parts.user()
    await this.parts.requestWhenConnected(topic === '' ? { type: 'create', room: name, kind } : { type: 'create', room: name, kind, topic })
    const owner = me && { id: me.id, username: me.username }
    const info: RoomInfo = {
      name, kind, topic, owner, members: kind === 'private' && owner ? [owner] : null,
      last_seq: 0, member: true, unread: 0, online: 1, mentions: 0,
    }
    this.parts.rooms.setState((list) => roomFromServer(list, info, this.parts.focused()))
    this.parts.joinedRooms.reopen(name)
    this.parts.roomsRefresh.request()
  }

  async directMessage(usernames: string[]): Promise<string> {
    const { joinedRooms } = this.parts
    const frame = (await this.parts.requestWhenConnected({ type: 'dm', users: usernames })) as JoinedFrame
    if (!isListed(this.parts.rooms.getState(), frame.room)) joinedRooms.announced.add(frame.room)
    joinedRooms.reopen(frame.room)
    // The list names a dm by its members, which the server's list holds.
    this.parts.roomsRefresh.request()
    return frame.room
  }

  async invite(name: string, username: string): Promise<void> {
    const frame = (await this.parts.requestWhenConnected({ type: 'invite', room: name, user: username })) as InvitedFrame
    this.parts.rooms.setState((list) => roomMembers(list, name, (members) => [...members, frame.user]))
  }

  async remove(name: string, username: string): Promise<void> {
    const frame = (await this.parts.requestWhenConnected({ type: 'remove', room: name, user: username })) as RemovedFrame
    this.parts.rooms.setState((list) => roomMembers(list, name, (members) => members.filter((m) => m.id !== frame.user.id)))
  }

  async setTopic(name: string, topic: string): Promise<void> {
    // The answer is a `room` frame, which the inbound routing applies like any other.
    await this.parts.requestWhenConnected({ type: 'topic', room: name, topic })
  }
}
