"""One consumer per socket: authenticate, take frames in, hand each to its
handler, and clean up when the socket goes.

Which handler answers which frame, and the `error` each failure maps to, is
answers.py's; the handlers are the consumer's mixins': joinactions.py
(`join`, `leave`, `typing`, and the live frames of the rooms joined),
roomactions.py, messageactions.py and notifyactions.py. Rooms, live frames and
presence go through the process's hub; every group send through events.py; a
`send` and a `join` through chat/store.py (one statement each on the event
loop with PostgreSQL); other reads and writes through selectors/services in a
thread; each with a deadline (chat/deadlines.py). Live frames and answers go
straight to the socket's protocol where the server has one
(chat/transport.py). What one socket may cost is bounded here and in its
actions: a token per frame, repeated `typing` at most once a second per room,
a bounded number of requests in flight (chat/lanes.py; `ping` answers after
the requests before it, or within half a second while they wait on a stalled
dependency), no new request while its output waits unsent
(chat/flow.py) and none that only reads once the socket is gone or
closing (answers.py), a bounded number of rooms per socket and of sockets per
user.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.services import user_wire
from chat import drain, events, frames, metrics, timing
from chat.answers import Answers
from chat.closecodes import MESSAGE_TOO_BIG, SERVICE_RESTART, TOO_MANY_SOCKETS, TRY_AGAIN_LATER, UNAUTHENTICATED
from chat.frames import FrameError
from chat.hub import get_hub
from chat.joinactions import JoinActions
from chat.lanes import Lanes
from chat.limits import SocketLimits
from chat.messageactions import MessageActions
from chat.notifyactions import NotifyActions
from chat.roomactions import RoomActions
from chat.roster import Roster
from chat.sockets import claim_socket, get_socket_registry
from chat.transport import FLOW_EXTENSION
from config import logs

log = logging.getLogger(__name__)


def _utf8_length(text: str) -> int:
    # A character is at most 4 bytes: short frames need no encoding to measure.
    if len(text) * 4 <= frames.MAX_FRAME_BYTES:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


class _NoFlow:
    """Flow control where the server has none (Channels' test communicator, plain daphne)."""

    closed = False

    def consumed(self, size: int) -> None:
        pass

    def send_shared(self, text: str) -> bool:
        return False

    def send_text(self, text: str) -> bool:
        return False

    async def writable(self) -> None:
        pass


class ChatConsumer(Answers, JoinActions, RoomActions, MessageActions, NotifyActions, AsyncWebsocketConsumer):
    # No channel per socket: the process's hub carries every group message.
    channel_layer_alias = None

    hub = None  # set once the socket is authenticated
    accepted = False
    logged_out = False
    restarting = False  # the process is stopping: no new request (restart())

    async def __call__(self, scope, receive, send):
        # Channels' own loop (await_many_dispatch) makes a task for every message
        # from the socket and waits on it with asyncio.wait, which is for several
        # sources; with one (no channel per socket) a plain loop takes each in turn.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message):
        # Channels' own dispatch first closes the thread's stale database
        # connections, a thread hop for every frame in and out of the socket.
        # This consumer touches the database only in deadlines.db's threads,
        # which do that themselves, and in chat/pgpool.py's connections.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message):
        # Channels' own closes the thread's stale database connections after
        # `disconnect`: a thread hop for every socket that goes, which a restart
        # or a network blip multiplies by thousands (see dispatch).
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def connect(self):
        account = self.scope.get("user")
        if self.scope.get("user_unavailable"):  # the database did not answer in time
            await self._refuse(TRY_AGAIN_LATER)
            return
        if account is None or not account.is_authenticated:
            await self._refuse(UNAUTHENTICATED)
            return
        session = self.scope.get("session")
        self.account = account
        self.user = user_wire(account)
        self.conn = uuid.uuid4().hex
        logs.bind_socket(conn=self.conn, user=self.user["id"])
        self.session_key = session.session_key if session is not None else None
        self.rooms: set[str] = set()  # joined on this socket
        self.typing: set[str] = set()  # rooms where this socket's user is typing
        self.buffers: dict[str, list] = {}  # live frames held back while joining
        self.rosters: dict[str, Roster] = {}  # per joined room, who this socket was told is present
        self.revoked: set[str] = set()  # rooms lost (removed) while this socket was joining them
        self.flow = self.scope.get("extensions", {}).get(FLOW_EXTENSION) or _NoFlow()
        self.limits = SocketLimits()
        self.lanes = Lanes(timing.REQUESTS_IN_FLIGHT)
        self.pongs: set[asyncio.Task] = set()
        if drain.draining():  # the listening port is closed; this came over a kept connection
            await self._refuse(SERVICE_RESTART)
            return
        if not await claim_socket(user_id=self.user["id"], conn=self.conn):
            await self._refuse(TOO_MANY_SOCKETS)
            return
        hub = get_hub()
        # In the user's group before the handshake completes: a client may log
        # out as soon as it sees the socket open, and that must close it.
        try:
            await hub.register(self)
        except BaseException:
            await get_socket_registry().release(user_id=self.user["id"], conn=self.conn)
            raise
        self.hub = hub
        await self.accept()
        self.accepted = True
        if self.logged_out:  # during the handshake
            await self.close(code=UNAUTHENTICATED)

    async def disconnect(self, code):
        if self.hub is None:
            return
        # Shielded: Daphne cancels an application that outlives the socket for
        # long, and a half-done clean-up would leave the socket in the hub.
        await asyncio.shield(self._clean_up())

    async def _clean_up(self) -> None:
        await self.lanes.drain(timing.REQUEST_DRAIN_TIMEOUT)
        for pong in list(self.pongs):
            pong.cancel()
        for room in list(self.rooms):
            try:
                await self._forget(room)
            except Exception as error:
                events.log_failure(log, f"cleanup of {self.conn} in {room} failed", error)
        await self.hub.unregister(self)
        try:
            await get_socket_registry().release(user_id=self.user["id"], conn=self.conn)
        except Exception as error:  # its entry expires with the presence TTL
            events.log_failure(log, f"socket registry release of {self.conn} failed", error)

    async def receive(self, text_data=None, bytes_data=None):
        if self.hub is None or self.restarting:
            return  # closing (a client resends what was not answered, after reconnecting)
        size = len(bytes_data) if text_data is None and bytes_data is not None else _utf8_length(text_data or "")
        self.flow.consumed(size)
        if size > frames.MAX_FRAME_BYTES:
            await self.close(code=MESSAGE_TOO_BIG)
            return
        allowed = self.limits.take_frame()
        try:
            frame = frames.parse(text_data if text_data is not None else bytes_data)
        except FrameError as error:
            metrics.received(None)
            await self.send_frame(self._error(error) if allowed else self._refused(error.ref))
            return
        metrics.received(frame)
        logs.bind_room(getattr(frame, "room", None))
        if not allowed:
            await self.send_frame(self._refused(frame.ref))
        elif isinstance(frame, frames.Ping):
            # Answered after the requests before it, as a client expects, unless
            # those wait on a stalled dependency: then at once.
            pong = asyncio.create_task(self._pong(frame.ref))
            self.pongs.add(pong)
            pong.add_done_callback(self.pongs.discard)
        else:
            # No new request while this socket's answers wait unsent.
            await self.flow.writable()
            await self.lanes.submit(getattr(frame, "room", None), functools.partial(self._handle, frame))

    async def _pong(self, ref: str | None) -> None:
        await self.lanes.settled(timing.PING_PATIENCE)
        await self.send_frame(frames.pong(ref))

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def send_frame(self, frame: dict) -> None:
        metrics.answered(frame)
        text = frames.dumps(frame)
        if not self.flow.send_text(text):
            await self.send(text_data=text)

    # ---- the hub's side (hub.Subscriber) -------------------------------------------

    async def deliver_direct(self, text: str) -> None:
        if not self.flow.send_shared(text):
            await self.send(text_data=text)

    async def restart(self) -> None:
        # The process is stopping (chat/drain.py): the requests taken finish and
        # are answered, and the close follows their answers.
        self.restarting = True
        await self.lanes.drain(timing.REQUEST_DRAIN_TIMEOUT)
        await self.close(code=SERVICE_RESTART)

    async def close_session(self) -> None:
        self.logged_out = True
        if self.accepted:  # else connect closes it once accepted: a close before accept is a 403
            await self.close(code=UNAUTHENTICATED)
