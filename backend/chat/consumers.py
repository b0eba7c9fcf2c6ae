"""One consumer per socket: authenticate, decode, dispatch, await domain functions.

Rooms, live frames and presence go through the process's hub; every group send
through events.py; reads and writes through selectors/services in a thread.
"""

from __future__ import annotations

import functools
import logging
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.services import user_wire
from chat import events, frames, selectors, services
from chat.frames import FrameError
from chat.hub import get_hub
from chat.ratelimit import get_send_limiter
from chat.transport import MESSAGE_TOO_BIG

log = logging.getLogger(__name__)

UNAUTHENTICATED = 4401


@functools.cache
def _serial_database() -> bool:
    # SQLite takes one writer at a time anyway, and its shared-cache test
    # database locks whole tables: keep Channels' one database thread there.
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def _db(function):
    # Elsewhere (PostgreSQL) sockets' queries run side by side in the thread
    # pool instead of queueing on one thread for the whole process.
    return database_sync_to_async(function, thread_sensitive=_serial_database())


def _utf8_length(text: str) -> int:
    # A character is at most 4 bytes: short frames need no encoding to measure.
    if len(text) * 4 <= frames.MAX_FRAME_BYTES:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class ChatConsumer(AsyncWebsocketConsumer):
    # No channel per socket: the process's hub carries every group message.
    channel_layer_alias = None

    hub = None  # set once the socket is authenticated
    accepted = False
    logged_out = False

    async def connect(self):
        account = self.scope.get("user")
        if account is None or not account.is_authenticated:
            await self.accept()
            await self.close(code=UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.account = account
        self.user = user_wire(account)
        self.conn = uuid.uuid4().hex
        self.session_key = session.session_key if session is not None else None
        self.rooms: set[str] = set()  # joined on this socket
        self.typing: set[str] = set()  # rooms where this socket's user is typing
        self.buffers: dict[str, list[str]] = {}  # live frames held back while joining
        self.hub = get_hub()
        # In the user's group before the handshake completes: a client may log
        # out as soon as it sees the socket open, and that must close it.
        await self.hub.register(self)
        await self.accept()
        self.accepted = True
        if self.logged_out:  # during the handshake
            await self.close(code=UNAUTHENTICATED)

    async def disconnect(self, code):
        if self.hub is None:
            return
        for room in list(self.rooms):
            try:
                await self._forget(room)
            except Exception as error:
                events.log_failure(log, f"cleanup of {self.conn} in {room} failed", error)
        await self.hub.unregister(self)

    async def receive(self, text_data=None, bytes_data=None):
        if self.hub is None:
            return  # closing with 4401
        size = len(bytes_data) if text_data is None and bytes_data is not None else _utf8_length(text_data or "")
        if size > frames.MAX_FRAME_BYTES:
            await self.close(code=MESSAGE_TOO_BIG)
            return
        frame = None
        try:
            frame = frames.parse(text_data if text_data is not None else bytes_data)
            reply = await self.handlers[type(frame)](self, frame)
        except FrameError as error:
            reply = frames.error(code=error.code, detail=error.detail, ref=error.ref)
        except Exception as error:
            events.log_failure(log, f"socket {self.conn} failed on {frame!r}", error)
            reply = frames.error(code="server_error", detail="the server could not do that", ref=getattr(frame, "ref", None))
        if reply is not None:
            await self.send_frame(reply)

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=frames.dumps(frame))

    # ---- the hub's side (hub.Subscriber) -------------------------------------------

    async def deliver(self, room: str, text: str) -> None:
        buffered = self.buffers.get(room)
        if buffered is not None:
            buffered.append(text)
        elif room in self.rooms:
            await self.send(text_data=text)

    async def close_session(self) -> None:
        self.logged_out = True
        if self.accepted:  # else connect closes it once accepted: a close before accept is a 403
            await self.close(code=UNAUTHENTICATED)

    # ---- handlers --------------------------------------------------------------------

    async def on_ping(self, frame: frames.Ping):
        return frames.pong(frame.ref)

    async def on_rooms(self, frame: frames.Rooms):
        rooms = await _db(selectors.room_list)(user=self.account)
        online = await self.hub.presence.counts(rooms=[room["name"] for room in rooms])
        return frames.rooms([{**room, "online": online.get(room["name"], 0)} for room in rooms], frame.ref)

    async def on_join(self, frame: frames.Join):
        room = frame.room
        await _db(services.room_join)(user=self.account, name=room)
        # Subscribe before querying and hold live frames back until `joined` is
        # out: a message stored meanwhile arrives in `messages`, live, or both.
        self.buffers[room] = []
        try:
            await self.hub.subscribe(room, self)
            if frame.since is None:
                messages, has_more = await _db(selectors.messages_latest)(room=room)
            else:
                messages, has_more = await _db(selectors.messages_since)(room=room, since=frame.since)
            await self.hub.enter(room, self)
            present = await self.hub.presence.users(room=room)
            self.rooms.add(room)
            await self.send_frame(
                frames.joined(room=room, presence=present, messages=messages, has_more=has_more, ref=frame.ref)
            )
        except BaseException:
            if room not in self.rooms:  # a first join failed: undo it
                self.buffers.pop(room, None)
                await self._forget(room)
            raise
        finally:
            await self._release(room)

    async def on_leave(self, frame: frames.Leave):
        # Leaving a room this socket is not in is not an error: `left` either way.
        if frame.room in self.rooms:
            await self._forget(frame.room)
        return frames.left(room=frame.room, ref=frame.ref)

    async def on_send(self, frame: frames.Send):
        self._require_joined(frame)
        # A resend is answered with the stored message and does not count against the limit.
        message = await _db(selectors.message_by_client_id)(user=self.account, client_id=frame.client_id)
        if message is not None:
            return frames.sent(message=message, ref=frame.ref)
        if not await get_send_limiter().hit(f"send:{self.user['id']}"):
            raise FrameError("rate_limited", "too many messages; wait a few seconds", frame.ref)
        message, created = await _db(services.message_insert)(
            user=self.account, room=frame.room, body=frame.body, client_id=frame.client_id
        )
        await self.send_frame(frames.sent(message=message, ref=frame.ref))
        if created:
            await events.message_created(message)
        await self._stop_typing(frame.room)

    async def on_history(self, frame: frames.History):
        self._require_joined(frame)
        messages, has_more = await _db(selectors.messages_before)(
            room=frame.room, before=frame.before, limit=frame.limit
        )
        return frames.history(room=frame.room, messages=messages, has_more=has_more, ref=frame.ref)

    async def on_typing(self, frame: frames.Typing):
        self._require_joined(frame)
        if frame.active:
            self.typing.add(frame.room)
        else:
            self.typing.discard(frame.room)
        await events.typing_changed(room=frame.room, user=self.user, active=frame.active)

    async def on_read(self, frame: frames.Read):
        self._require_joined(frame)
        await _db(services.read_marker_move)(user=self.account, room=frame.room, seq=frame.seq)

    handlers = {
        frames.Ping: on_ping,
        frames.Rooms: on_rooms,
        frames.Join: on_join,
        frames.Leave: on_leave,
        frames.Send: on_send,
        frames.History: on_history,
        frames.Typing: on_typing,
        frames.Read: on_read,
    }

    # ---- helpers ---------------------------------------------------------------------

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
            await self.send(text_data=buffered.pop(0))
        # No await between the emptiness check and the pop, so nothing is lost.
        self.buffers.pop(room, None)

    async def _forget(self, room: str) -> None:
        self.rooms.discard(room)
        await self._stop_typing(room)
        await self.hub.unsubscribe(room, self)
        await self.hub.exit(room, self)
