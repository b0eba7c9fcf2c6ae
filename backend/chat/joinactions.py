"""The consumer's frames that put the socket in a room and take it out:
`join`, `leave` (`leave` with `forget` is roomactions.py's) and `typing`; and
the hub's side of a joined room (hub.Subscriber): its live frames, its
presence, and losing it.

A mixin of the consumer (consumers.ChatConsumer), like roomactions.py. A join
subscribes to the room's group before it reads the room (chat/store.py, one
statement on the event loop with PostgreSQL) and holds the room's live frames
back until `joined` is out; the socket is then counted in the room's presence
and keeps the roster of who it was told is present (chat/roster.py), so the
`presence` frames it is sent after `joined` are news. Every way out of a room
(`leave`, leaving it for good or losing it, the socket's end) goes through
_forget, which also says the typist stopped.
"""

from __future__ import annotations

import functools

from chat import events, frames, selectors, services, store
from chat.deadlines import db
from chat.frames import FrameError
from chat.models import DM_PREFIX
from chat.roster import Roster


class JoinActions:
    """Needs the consumer's account, user, conn, hub, flow, limits, rooms, typing,
    buffers, rosters, revoked, send, send_frame and deliver_direct, and
    RoomActions' announce_room, leave_for_good_request and _may_make_a_room."""

    async def on_join(self, frame: frames.Join):
        room = frame.room
        if room not in self.rooms and not self.limits.may_join(rooms_held=len(self.rooms | self.buffers.keys())):
            raise FrameError("rate_limited", f"a socket may be in at most {self.limits.max_rooms} rooms", frame.ref)
        # Subscribe before querying and hold live frames back until `joined` is
        # out: a message stored meanwhile arrives in `messages`, live, or both.
        self.buffers[room] = []
        self.revoked.discard(room)
        try:
            await self.hub.subscribe(room, self)
            # Staff who join a private room become a member: its members see that.
            before = await db(selectors.room_info)(user=self.account, name=room) if self.account.is_staff else None
            messages, has_more, rev, created = await self._enter_room(frame)
            if room in self.revoked:  # removed meanwhile
                raise services.RoomForbidden(room)
            present = await self.hub.presence.enter(room, self)
            self.rosters[room] = Roster(present)
            self.rooms.add(room)
            await self.send_frame(
                frames.joined(
                    room=room, presence=present, messages=messages, has_more=has_more, rev=rev, ref=frame.ref
                )
            )
            if created:  # a new public room enters everybody's list
                info = {
                    "name": room, "kind": "public", "topic": "", "owner": None, "members": None, "last_seq": 0,
                    "member": False, "unread": 0, "mentions": 0, "rev": 0, "online": len(present),
                }
                await events.room_created(info=info, creator_id=self.user["id"])
            if before is not None and before["kind"] == "private" and not before["member"]:
                await self.announce_room(room, exclude_conn=self.conn)
        except BaseException:
            if room not in self.rooms:  # a first join failed: undo it
                self.buffers.pop(room, None)
                await self._forget(room)
            raise
        finally:
            await self._release(room)

    async def on_leave(self, frame: frames.Leave):
        # Leaving a room this socket is not in is not an error: `left` either way.
        if frame.forget:
            await self.leave_for_good_request(frame)
        elif frame.room in self.rooms:
            await self._forget(frame.room)
        return frames.left(room=frame.room, ref=frame.ref)

    async def on_typing(self, frame: frames.Typing):
        self._require_joined(frame)
        if not self.limits.typing_passes(room=frame.room, active=frame.active, typing=frame.room in self.typing):
            return
        if frame.active:
            self.typing.add(frame.room)
        else:
            self.typing.discard(frame.room)
        await events.typing_changed(room=frame.room, user=self.user, active=frame.active)

    # ---- the hub's side (hub.Subscriber) -------------------------------------------

    async def deliver(self, room: str, text: str) -> None:
        buffered = self.buffers.get(room)
        if buffered is not None:
            buffered.append(text)
        elif room in self.rooms and not self.flow.send_shared(text):
            await self.send(text_data=text)

    async def deliver_presence(self, room: str, text: str, joins: list[dict], leaves: list[dict]) -> None:
        buffered = self.buffers.get(room)
        if buffered is not None:
            buffered.append((text, joins, leaves))  # judged against the snapshot `joined` will carry
        elif room in self.rooms:
            await self._send_presence(room, text, joins, leaves)

    async def leave_for_good(self, room: str, text: str) -> None:
        if room in self.buffers:  # mid-join: that join ends in `forbidden`
            self.revoked.add(room)
        if room in self.rooms:
            await self._forget(room)
        await self.deliver_direct(text)

    # ---- helpers ---------------------------------------------------------------------

    async def _enter_room(self, frame: frames.Join) -> tuple[list[dict], bool, int, bool]:
        """Membership, the join's messages and the room's rev, in one database
        call; and whether this join made the room. A missing `dm-` room is not made by `join`."""
        enter = functools.partial(
            store.room_enter, user=self.account, name=frame.room, since=frame.since, since_rev=frame.since_rev
        )
        try:
            return *await enter(), False
        except services.RoomNotFound:
            if frame.room.startswith(DM_PREFIX):
                raise services.RoomForbidden(frame.room) from None
            await self._may_make_a_room(frame.ref)
            # Another socket may make it meanwhile: the room is new to this join
            # (and announced by it) only if this join made it.
            made = await store.room_make(name=frame.room)
            return *await enter(), made

    def _require_joined(self, frame) -> None:
        if frame.room not in self.rooms:
            raise FrameError("not_joined", f"join '{frame.room}' first", frame.ref)

    async def _stop_typing(self, room: str) -> None:
        """The server says `active: false` itself when a typist sends, leaves or goes."""
        if room in self.typing:
            self.typing.discard(room)
            await events.typing_changed(room=room, user=self.user, active=False)

    async def _release(self, room: str) -> None:
        """Sends the live frames held back during a join, after `joined`."""
        buffered = self.buffers.get(room, [])
        while buffered:
            frame = buffered.pop(0)
            if isinstance(frame, str):
                await self.deliver_direct(frame)
            else:
                await self._send_presence(room, *frame)
        # No await between the emptiness check and the pop, so nothing is lost.
        self.buffers.pop(room, None)

    async def _send_presence(self, room: str, text: str, joins: list[dict], leaves: list[dict]) -> None:
        """Only what this socket's roster does not say yet: mostly the whole frame, as
        serialized once for everyone; nothing when it was all in `joined` already."""
        new_joins, new_leaves = self.rosters[room].news(joins, leaves)
        if len(new_joins) == len(joins) and len(new_leaves) == len(leaves):
            await self.deliver_direct(text)  # the fan-out's frame, built once for all its sockets
        elif new_joins or new_leaves:
            await self.send_frame(frames.presence(room=room, joins=new_joins, leaves=new_leaves))

    async def _forget(self, room: str) -> None:
        self.rooms.discard(room)
        self.rosters.pop(room, None)
        await self._stop_typing(room)
        await self.hub.unsubscribe(room, self)
        await self.hub.presence.exit(room, self)
