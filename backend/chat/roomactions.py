"""The consumer's room frames: `rooms`, and version 2's `create`, `dm`,
`invite`, `remove`, `topic` and `leave` with `forget`, and the unasked `room`
and `room_removed` they cause.

A mixin of the consumer (consumers.ChatConsumer): `rooms` reads the user's
list through selectors.room_list; each other handler checks and writes
through services (which ask selectors.rooms_readable_by, the one access rule),
answers, and tells the users concerned through events.py after the
write has committed. A user who loses a room is told through their user group
before the request is answered, so every socket of theirs, on every process,
is out of the room at once (hub.Subscriber.leave_for_good).
"""

from __future__ import annotations

from chat import events, frames, selectors, services
from chat.deadlines import db
from chat.frames import FrameError
from chat.models import DM_PREFIX, Room
from chat.ratelimit import get_limiter

# One text for a room the user may not see and one that does not exist, so a
# private room's name never shows through an error.
FORBIDDEN = "that room is not open to you, or that is not allowed in it"


class RoomActions:
    """Needs the consumer's account, user, conn, hub, rooms and send_frame, and JoinActions' on_join and _forget."""

    async def on_rooms(self, frame: frames.Rooms):
        # Having listed the rooms, the socket is told of new ones (a bare load
        # generator that never asks is spared a frame per new room).
        await self.hub.follow_rooms(self)
        rooms = await db(selectors.room_list)(user=self.account)
        online = await self.hub.presence.online_counts([room["name"] for room in rooms])
        return frames.rooms([{**room, "online": online.get(room["name"], 0)} for room in rooms], frame.ref)

    async def on_create(self, frame: frames.Create):
        await self._may_make_a_room(frame.ref)
        try:
            await db(services.room_create)(user=self.account, name=frame.room, kind=frame.kind, topic=frame.topic)
        except services.RoomExists:
            raise FrameError("room_exists", f"a room named '{frame.room}' exists", frame.ref) from None
        await self.on_join(frames.Join(room=frame.room, ref=frame.ref))
        info = await self._room_info(frame.room)
        if frame.kind == Room.Kind.PUBLIC:  # it enters everybody's list
            await events.room_created(info={**info, "member": False, "unread": 0}, creator_id=self.user["id"])
        await events.room_changed(infos={self.user["id"]: info}, exclude_conn=self.conn)

    async def on_dm(self, frame: frames.Dm):
        try:
            name, member_ids, exists = await db(services.dm_members)(user=self.account, usernames=list(frame.users))
        except ValueError as error:
            raise FrameError("bad_frame", str(error), frame.ref) from None
        created = False
        if not exists:
            await self._may_make_a_room(frame.ref)
            created = await db(services.dm_create)(name=name, member_ids=member_ids)
        await self.on_join(frames.Join(room=name, ref=frame.ref))
        if created:  # it enters every member's list
            await self.announce_room(name, exclude_conn=self.conn)

    async def on_invite(self, frame: frames.Invite):
        invitee, added = await db(services.member_invite)(user=self.account, room=frame.room, username=frame.user)
        if added:  # the room enters the invitee's list; the others see its members change
            await self.announce_room(frame.room, exclude_conn=self.conn)
        return frames.invited(room=frame.room, user=invitee, ref=frame.ref)

    async def on_remove(self, frame: frames.Remove):
        member, was_member = await db(services.member_remove)(user=self.account, room=frame.room, username=frame.user)
        if was_member:
            # Out on every socket, every process, before the owner hears `removed`.
            await events.room_lost(user_id=member["id"], room=frame.room)
            await self.announce_room(frame.room, exclude_conn=self.conn)
        return frames.removed(room=frame.room, user=member, ref=frame.ref)

    async def on_topic(self, frame: frames.Topic):
        await db(services.topic_set)(user=self.account, room=frame.room, topic=frame.topic)
        infos = await self.announce_room(frame.room, exclude_conn=self.conn, also=[self.user["id"]])
        return frames.room_info(infos[self.user["id"]], frame.ref)

    # ---- helpers ---------------------------------------------------------------------

    async def _may_make_a_room(self, ref: str | None) -> None:
        # Making a room is limited per user (CHAT_ROOM_CREATE_RATE); joining one is not.
        if not await get_limiter("CHAT_ROOM_CREATE_RATE").hit(f"rooms:{self.user['id']}"):
            raise FrameError("rate_limited", "too many new rooms; wait a minute", ref)

    async def _room_info(self, name: str) -> dict:
        info = await db(selectors.room_info)(user=self.account, name=name)
        online = await self.hub.presence.online_counts([name])
        return {**info, "online": online.get(name, 0)}

    async def announce_room(self, name: str, *, exclude_conn: str | None = None, also: list[int] = ()) -> dict:
        """`room` to every socket of every member (and of the users `also`), each
        with their own ROOMINFO, but `exclude_conn`; returns those ROOMINFOs."""
        infos = await db(selectors.room_infos_for_members)(name=name, also=list(also))
        online = (await self.hub.presence.online_counts([name])).get(name, 0)
        infos = {user_id: {**info, "online": online} for user_id, info in infos.items()}
        await events.room_changed(infos=infos, exclude_conn=exclude_conn)
        return infos

    async def leave_for_good_request(self, frame: frames.Leave) -> None:
        """`leave` with `forget`. Public: out of the room and no longer a member;
        every socket of the user leaves it too and hears `room` with `member`
        false. Private: every socket of theirs leaves it and hears
        `room_removed`; the other members see the members change. A dm room is
        forbidden; a room the user may not read, or that does not exist, answers
        `left` and tells nobody."""
        if frame.room.startswith(DM_PREFIX):
            raise FrameError("forbidden", "a direct conversation cannot be left", frame.ref)
        if frame.room in self.rooms:
            await self._forget(frame.room)
        access = await db(selectors.room_access)(user=self.account, name=frame.room)
        if access is None or not access[1]:
            return
        was_member = await db(services.room_forget)(user=self.account, room=frame.room)
        if access[0] == Room.Kind.PRIVATE:
            if was_member:
                await events.room_lost(user_id=self.user["id"], room=frame.room)
                await self.announce_room(frame.room)
            return
        info = await db(selectors.room_info)(user=self.account, name=frame.room)
        online = await self.hub.presence.online_besides(frame.room, self.user["id"])
        await events.room_left_for_good(user_id=self.user["id"], info={**info, "online": online})
