"""Per-process fan-out: one channel-layer channel for every socket of this process.

Phoenix calls this the "fastlane". A socket does not get a channel of its own.
Instead one `Hub` per event loop owns a single channel and joins the groups its
sockets need: `room.<name>` while at least one local socket is in the room,
`user.<id>` while that user has a local socket (so a logout can close them, and
a room left for good is left by all of them), `everyone` while a socket
here follows the room list (a new public room enters everybody's list), and
`processes` from the server's start (nothing is sent to it: how many listen
tells a stopping process whether another can take its sockets, chat/drain.py).
A group message carries its frame already serialized (events.py does that once);
the hub hands the same text to every local socket in the room, so the cost per
recipient is one ASGI send and no JSON work.

The hub keeps its channel's groups in step with its sockets (chat/groups.py)
and holds this process's presence (chat/presence/rooms.py). Beside the receive
loop it runs two timers: a heartbeat that re-adds every group (channels-redis
forgets groups on a Redis restart and expires them after group_expiry) and
refreshes presence for this process's sockets, and a sweep that expires
presence left behind by dead processes and announces those leaves. When its
groups are back after the layer failed (a heartbeat re-added them, or the
pub/sub layer subscribed again by itself), the hub hands its rooms' sockets
the messages stored meanwhile (chat/catchup.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from channels.layers import get_channel_layer

from chat import catchup, deadlines, frames, metrics, timing
from chat.events import EVERYONE_GROUP, PROCESSES_GROUP, log_failure, room_group, user_group
from chat.groups import Groups
from chat.presence.base import PresenceStore
from chat.presence.rooms import RoomPresence
from chat.sockets import get_socket_registry

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """What the hub needs from a socket (the consumer implements it)."""

    conn: str
    user: dict  # USER: {"id", "username"}
    session_key: str | None

    async def deliver(self, room: str, text: str) -> None:
        """Send one serialized frame of `room` to the client."""

    async def deliver_presence(self, room: str, text: str, joins: list[dict], leaves: list[dict]) -> None:
        """A presence frame of `room`: send what the client has not been told yet."""

    async def close_session(self) -> None:
        """The session was logged out: close the socket with 4401."""

    async def deliver_direct(self, text: str) -> None:
        """Send one serialized frame that belongs to no joined room (`room`)."""

    async def leave_for_good(self, room: str, text: str) -> None:
        """The user left `room` for good or lost it (on any socket): out of it at
        once, then send `text`."""

    async def restart(self) -> None:
        """The process is stopping: finish the requests taken, then close with 1012."""


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


# The member that keeps PROCESSES_GROUP wanted: the process itself, not a socket
# (local_sockets() and presence look only at users' and rooms' groups).
_THIS_PROCESS: Any = object()


def get_hub() -> Hub:
    """The hub of the running event loop (Daphne has one loop; each async test its own)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.closed:
        hub = _hubs[loop] = Hub()
    return hub


class Hub:
    def __init__(
        self,
        layer: Any = None,
        *,
        presence_store: PresenceStore | None = None,
        heartbeat_interval: float | None = None,
        sweep_interval: float = timing.PRESENCE_SWEEP_INTERVAL,
        missed: Callable[[dict[str, set[int]], float], Awaitable[dict[str, catchup.Missed]]] = catchup.missed_since,
    ):
        self.layer = layer if layer is not None else get_channel_layer()
        self.missed = missed  # after an outage: each room's messages stored since, and who may still read it
        self.presence = RoomPresence(presence_store)
        self.sockets = get_socket_registry()
        ttl = float(self.presence.store.ttl)
        self.heartbeat_interval = heartbeat_interval or min(
            ttl / timing.HEARTBEATS_PER_PRESENCE_TTL, timing.MAX_GROUP_READD_INTERVAL
        )
        self.sweep_interval = sweep_interval
        self.channel: str | None = None
        self.closed = False
        self._members: dict[str, set[Subscriber]] = {}  # group -> local sockets
        self._opening: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        self._wake = asyncio.Event()
        self._failed_at: float | None = None  # the layer failed then (Unix time), and the groups are not back yet
        self.groups = Groups(self.layer, members=self._members, failed=self._wake.set)

    # ---- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        """Idempotent; every public method calls it, so first use starts the hub."""
        if self.closed:
            raise RuntimeError("the hub is closed")
        if self._opening is None:
            # In a context of its own: started by the first socket's call, the
            # hub's loops and the channel layer's receiving task would otherwise
            # log as that socket (config/logs.py) for good.
            self._opening = asyncio.get_running_loop().create_task(self._open(), context=contextvars.Context())
        elif self._opening.done() and not self._opening.cancelled() and self._opening.exception() is None:
            return  # started
        # Shielded: a caller cancelled mid-start must not cancel the start that
        # every other caller is waiting on too.
        await asyncio.shield(self._opening)

    async def _open(self) -> None:
        self.channel = self.groups.channel = await self.layer.new_channel()
        watch = getattr(self.layer, "watch_resubscriptions", None)  # chat.layers.PubSubChannelLayer
        if watch is not None:
            watch(self._subscribed_again)
        # Added by the heartbeat's first round, at once, and kept like every group.
        self._members[PROCESSES_GROUP] = {_THIS_PROCESS}
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="hub-receive"),
            asyncio.create_task(self._heartbeat_loop(), name="hub-heartbeat"),
            asyncio.create_task(self._sweep_loop(), name="hub-sweep"),
        ]

    async def close(self) -> None:
        """Stops the loops and leaves every group (tests; a clean shutdown)."""
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        # Wait for the cancellations to land, so channels-redis has released its
        # receive lock before anything else on this loop receives.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.presence.close()
        await self.groups.discard_all()

    # ---- membership ------------------------------------------------------------

    async def register(self, sub: Subscriber) -> None:
        """A new socket: join its user's group."""
        await self.open()
        await self.groups.join(user_group(sub.user["id"]), sub)

    async def follow_rooms(self, sub: Subscriber) -> None:
        """The socket listed the rooms: from now on it hears of every new public room."""
        await self.open()
        await self.groups.join(EVERYONE_GROUP, sub)

    async def unregister(self, sub: Subscriber) -> None:
        await self.groups.leave(EVERYONE_GROUP, sub)
        await self.groups.leave(user_group(sub.user["id"]), sub)

    async def subscribe(self, room: str, sub: Subscriber) -> None:
        """Returns once this process receives the room's frames (best effort if the layer is down)."""
        await self.open()
        await self.groups.join(room_group(room), sub)

    async def unsubscribe(self, room: str, sub: Subscriber) -> None:
        await self.groups.leave(room_group(room), sub)

    async def other_processes(self) -> int:
        """How many other processes' hubs share this channel layer. The in-memory
        layer is one process's own: 0. Raises if Redis does not answer in time."""
        await self.open()
        count = getattr(self.layer, "subscribers", None)
        if count is None:
            return 0
        listening = await deadlines.redis(count(PROCESSES_GROUP), "process count")
        return max(0, listening - (1 if PROCESSES_GROUP in self.groups.added else 0))

    def local_sockets(self) -> list[Subscriber]:
        """Every socket of this process (each is in its user's group)."""
        users = user_group("")
        return [sub for group, subs in self._members.items() if group.startswith(users) for sub in subs]

    def socket_entries(self) -> list[tuple[int, str]]:
        """(user id, conn) of every socket of this process."""
        users = user_group("")  # the prefix of every user's group
        return [(sub.user["id"], sub.conn) for group, subs in self._members.items() if group.startswith(users)
                for sub in subs]

    # ---- the loops -------------------------------------------------------------

    async def _receive_loop(self) -> None:
        delay = timing.LAYER_RETRY_FIRST
        failing = False
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception as error:
                # Redis down or restarting. Memberships may be gone with it: wake
                # the heartbeat to re-add them, and retry with a growing pause.
                if not failing:
                    log_failure(log, "hub receive failed; retrying", error)
                    self._layer_failed()
                failing = True
                self._wake.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, timing.LAYER_RETRY_MAX)
                continue
            if failing:
                log.info("hub receive recovered")
                failing, delay = False, timing.LAYER_RETRY_FIRST
            try:
                await self._dispatch(message)
            except Exception:
                log.exception("hub could not dispatch %r", message.get("type"))

    async def _dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "room.frame" or kind == "room.presence":
            await self._fan_out(message)
        elif kind == "user.close":
            await self._close_sessions(message)
        elif kind == "user.room_left":
            await self._each(user_group(message["user"]), lambda sub: sub.leave_for_good(message["room"], message["text"]))
        elif kind == "user.frame":
            exclude_conn = message.get("exclude_conn")
            await self._each(
                user_group(message["user"]), lambda sub: sub.deliver_direct(message["text"]),
                skip=lambda sub: sub.conn == exclude_conn,
            )
        elif kind == "everyone.frame":
            exclude_user = message.get("exclude_user")
            await self._each(
                EVERYONE_GROUP, lambda sub: sub.deliver_direct(message["text"]), skip=lambda sub: sub.user["id"] == exclude_user
            )
        else:
            log.warning("hub got an unknown message type %r", kind)

    async def _fan_out(self, message: dict) -> None:
        room, text = message["room"], message["text"]
        exclude_user, exclude_conn = message.get("exclude_user"), message.get("exclude_conn")
        # Presence carries its users too: each socket keeps back what it already knows.
        presence = message["type"] == "room.presence"
        delivered = 0
        # A copy: a delivery may await, and sockets join and leave meanwhile.
        for sub in list(self._members.get(room_group(room), ())):
            if sub.conn == exclude_conn or sub.user["id"] == exclude_user:
                continue
            delivered += 1
            try:
                if presence:
                    await sub.deliver_presence(room, text, message["joins"], message["leaves"])
                else:
                    await sub.deliver(room, text)
            except Exception as error:
                # One broken socket must not cost the others their frame.
                log_failure(log, f"delivery to {sub.conn} failed", error)
        metrics.delivered(message.get("frame_type", "presence" if presence else "message"), delivered)

    async def _each(
        self, group: str, deliver: Callable[[Subscriber], Awaitable[None]],
        skip: Callable[[Subscriber], bool] = lambda sub: False,
    ) -> None:
        # A copy: a delivery may await, and sockets come and go meanwhile.
        for sub in list(self._members.get(group, ())):
            if skip(sub):
                continue
            try:
                await deliver(sub)
            except Exception as error:
                # One broken socket must not cost the others their frame.
                log_failure(log, f"delivery to {sub.conn} failed", error)

    async def _close_sessions(self, message: dict) -> None:
        session_key, keep = message.get("session_key"), message.get("keep_session_key")
        for sub in list(self._members.get(user_group(message["user"]), ())):
            # No session_key means every session of the user but `keep`.
            if session_key is None and keep is not None and sub.session_key == keep:
                sub.session_key = message.get("kept_key_now") or keep
                continue
            if session_key is None or sub.session_key == session_key:
                try:
                    await sub.close_session()
                except Exception as error:
                    log_failure(log, f"closing {sub.conn} failed", error)

    async def _heartbeat_loop(self) -> None:
        delay = timing.LAYER_RETRY_FIRST
        while True:
            healthy = await self.heartbeat()
            # After a failure retry soon (growing pause), else wait a full interval.
            wait = self.heartbeat_interval if healthy else delay
            delay = timing.LAYER_RETRY_FIRST if healthy else min(delay * 2, timing.LAYER_RETRY_MAX)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def heartbeat(self) -> bool:
        """Re-adds every group and refreshes this process's presence; True if all worked.
        The first time the groups are back after the layer failed, catches the
        rooms' sockets up on the messages stored since."""
        healthy = await self.groups.readd()
        if not healthy:
            self._layer_failed()
        elif self._failed_at is not None:
            since, self._failed_at = self._failed_at - timing.CATCH_UP_MARGIN, None
            await self._catch_up(since)
        try:
            await self.presence.refresh()
        except Exception as error:
            log_failure(log, "presence refresh failed", error)
            healthy = False
        try:
            await self.sockets.refresh(entries=self.socket_entries())
        except Exception as error:
            log_failure(log, "socket registry refresh failed", error)
            healthy = False
        if not healthy:
            # A failed group call sets the wake flag (Groups' `failed`); the pause here is the backoff.
            self._wake.clear()
        return healthy

    def _layer_failed(self) -> None:
        if self._failed_at is None:
            self._failed_at = time.time()

    def _subscribed_again(self, lost_at: float) -> None:
        """The layer lost its subscriptions at `lost_at` and has them back (it
        makes them again itself, without failing a receive): one catch-up for
        this and for any failure the heartbeat saw meanwhile."""
        since = lost_at if self._failed_at is None else min(lost_at, self._failed_at)
        self._failed_at = None
        catching_up = asyncio.get_running_loop().create_task(
            self._catch_up(since - timing.CATCH_UP_MARGIN), context=contextvars.Context()
        )
        self._tasks.append(catching_up)
        catching_up.add_done_callback(self._tasks.remove)

    async def _catch_up(self, since: float) -> None:
        """The messages stored since `since` (a Unix time), to the sockets of their
        rooms here, as the live frames they may have missed; and out of a room
        the sockets of users who may no longer read it (chat/catchup.py)."""
        prefix = room_group("")
        rooms = {group[len(prefix):]: {sub.user["id"] for sub in subs}
                 for group, subs in self._members.items() if group.startswith(prefix)}
        if not rooms:
            return
        try:
            missed = await self.missed(rooms, since)
        except Exception as error:  # the clients' own gap filling remains
            log_failure(log, "catching the sockets up after the channel layer came back failed", error)
            return
        for room, (texts, readers) in missed.items():
            reading = sum(1 for sub in self._members.get(room_group(room), ()) if sub.user["id"] in readers)
            await self._each(room_group(room), functools.partial(_catch_up_socket, room=room, texts=texts,
                                                                  readers=readers))
            metrics.delivered("message", len(texts) * reading)
        log.info("caught %d rooms' sockets up on %d messages stored while the channel layer was away",
                 len(missed), sum(len(entry.texts) for entry in missed.values()))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            await self.presence.sweep()


async def _catch_up_socket(sub: Subscriber, *, room: str, texts: list[str], readers: set[int]) -> None:
    """One socket's part of Hub._catch_up: the room's missed messages, or out of
    the room if its user may no longer read it."""
    if sub.user["id"] not in readers:
        await sub.leave_for_good(room, frames.dumps(frames.room_removed(room)))
        return
    for text in texts:
        await sub.deliver(room, text)


def existing_hub() -> Hub | None:
    """The running loop's hub if it has one (a stopping server makes none)."""
    hub = _hubs.get(asyncio.get_running_loop())
    return hub if hub is not None and not hub.closed else None


metrics.watch_hubs(
    lambda: sum(len(hub.local_sockets()) for hub in list(_hubs.values())),
    lambda: sum(hub.presence.entry_count() for hub in list(_hubs.values())),
)


async def close_hub() -> None:
    """Closes the running loop's hub, if it has one (test teardown, shutdown)."""
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.close()
