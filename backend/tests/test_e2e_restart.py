"""Graceful restarts behind the compose file's nginx (chat/drain.py).

Two Daphne processes share Redis and PostgreSQL behind nginx; 100 clients chat
in 10 rooms while each process in turn gets SIGTERM and is started again. The
clients behave like the app's (frontend/src/lib/socket.ts, client.ts): after a
1012 they reconnect at once (a random pause under 250 ms), rejoin with `since`
(the last seq they hold without a gap), fill a gap seen in live `seq`s with
`history`, and resend what was not acknowledged with the same client_id.

Nothing may be lost (every acknowledged message reaches every member of its
room), every close must be a 1012 (no dropped connection), a stopping process
exits by itself after spreading its closes over the drain (the other process is
there to take them), and clients are connected again at once: 95 % within 2 s,
every one within the drain's 5 s (on a busy two-core CI machine the slowest
of a hundred once took 2.2 s).

A lone process on Redis, with nobody to take its sockets, closes them all at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import signal
import time
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .harness import GENEROUS_LIMITS, RedisServer, Socket, Topology, running, unique_room
from .test_e2e_nginx import nginx_in_front

pytestmark = pytest.mark.e2e

USERS = 10
ROOMS = 10  # each user has one socket in each room: 100 clients
SEND_EVERY = 2.0  # seconds between one client's messages, on average
DRAIN_SECONDS = 5  # the default
RESTART_JITTER = 0.25  # as RESTART_RECONNECT_JITTER_MS in frontend/src/lib/timing.ts
RECONNECT_LIMIT = 2.0  # for 95 % of the clients; every one within DRAIN_SECONDS
STOP_LIMIT = 25  # seconds; docker-compose.yml's stop_grace_period is 30


@pytest.fixture(scope="module")
def restart_topology():
    topology = Topology(kind="graceful", processes=2, postgres=True,
                        extra_env={**GENEROUS_LIMITS, "CHAT_DRAIN_SECONDS": str(DRAIN_SECONDS)})
    with running(topology):
        yield topology


class _JoinFailed(Exception):
    """The server could not answer the join (server_error): try again."""


class Client:
    """One socket of one user in one room, as the app keeps it."""

    _refs = itertools.count(1)

    def __init__(self, *, proxy, cookie: str, room: str, name: str):
        self.proxy, self.cookie, self.room, self.name = proxy, cookie, room, name
        self.seen: dict[int, str] = {}  # seq -> message id
        self.outbox: dict[str, str] = {}  # client_id -> body, until `sent`
        self.acked: dict[int, str] = {}  # what this client's sends stored: seq -> id
        self.closes: list[int | None] = []
        self.waits: list[float] = []  # seconds from a close to the next socket open (the app's "connected")
        self.rejoins: list[float] = []  # ... and to its `joined`
        self.errors: list[str] = []
        self.failures: list[str] = []  # why connections ended or did not open
        self.connected = asyncio.Event()
        self.ws = None
        self.sending = True

    def held(self) -> int:
        """The last seq held with none missing before it."""
        seq = 0
        while seq + 1 in self.seen:
            seq += 1
        return seq

    async def run(self, stop: asyncio.Event) -> None:
        closed_at: float | None = None  # when the last socket closed, until the next one has joined
        while not stop.is_set():
            opened = None
            try:
                async with connect(self.proxy.ws_url, additional_headers={"Cookie": self.cookie},
                                   origin=self.proxy.origin, max_size=None, ping_interval=None,
                                   open_timeout=10, close_timeout=2) as ws:
                    self.ws = opened = ws
                    if closed_at is not None:
                        self.waits.append(time.monotonic() - closed_at)
                    await self._join(ws)
                    if closed_at is not None:
                        self.rejoins.append(time.monotonic() - closed_at)
                        closed_at = None
                    self.connected.set()
                    # What was not acknowledged goes again, with the same client_id.
                    for client_id, body in list(self.outbox.items()):
                        await self._send(ws, client_id, body)
                    chatter = asyncio.ensure_future(self._chat(ws, stop))
                    try:
                        await self._read(ws)
                    finally:
                        chatter.cancel()
            except _JoinFailed as error:  # the app's room rejoins after a pause, on the same socket or the next
                self.failures.append(f"{time.monotonic():.1f} {error!r}"[:200])
                opened = None
            except (ConnectionClosed, OSError, InvalidStatus, asyncio.TimeoutError) as error:
                # Closed, or no server took the connection (yet): try again soon.
                self.failures.append(f"{time.monotonic():.1f} {error!r}"[:200])
            except Exception as error:  # noqa: BLE001 - the test reports it
                self.errors.append(repr(error))
                return
            self.connected.clear()
            self.ws = None
            if stop.is_set():
                return
            if opened is not None:
                self.closes.append(opened.close_code)
                if closed_at is None:
                    closed_at = time.monotonic()
            await asyncio.sleep(random.uniform(0, RESTART_JITTER))

    async def _join(self, ws) -> None:
        held = self.held()
        await ws.send(json.dumps({"type": "join", "room": self.room, "ref": "join",
                                  **({"since": held} if self.seen else {})}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame.get("ref") == "join":
                if frame["type"] == "error" and frame["code"] == "server_error":
                    await asyncio.sleep(1)
                    raise _JoinFailed(frame["detail"])
                assert frame["type"] == "joined", (self.name, frame)
                self._take(frame["messages"])
                if frame["has_more"]:
                    await self._fill(ws)
                return
            self._handle(ws, frame)

    async def _fill(self, ws) -> None:
        with contextlib.suppress(ConnectionClosed):  # the rejoin's `since` asks again
            await ws.send(json.dumps({"type": "history", "room": self.room, "after": self.held(), "limit": 100,
                                      "ref": f"fill{next(self._refs)}"}))

    async def _chat(self, ws, stop: asyncio.Event) -> None:
        while not stop.is_set() and self.sending:
            await asyncio.sleep(random.uniform(0, 2 * SEND_EVERY))
            if not self.sending:
                return
            client_id = str(uuid.uuid4())
            self.outbox[client_id] = f"{self.name} {len(self.acked) + len(self.outbox)}"
            try:
                await self._send(ws, client_id, self.outbox[client_id])
            except ConnectionClosed:
                return  # in the outbox: sent again after the reconnect

    async def _send(self, ws, client_id: str, body: str) -> None:
        await ws.send(json.dumps({"type": "send", "room": self.room, "body": body, "client_id": client_id,
                                  "ref": client_id}))

    async def _resend(self, ws, client_id: str) -> None:
        body = self.outbox.get(client_id)
        if body is not None:
            with contextlib.suppress(ConnectionClosed):  # else the reconnect resends it
                await self._send(ws, client_id, body)

    async def _read(self, ws) -> None:
        async for raw in ws:
            self._handle(ws, json.loads(raw))

    def _handle(self, ws, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "sent":
            message = frame["message"]
            self.outbox.pop(message["client_id"], None)
            self.acked[message["seq"]] = message["id"]
            self._take([message])
        elif kind == "message" and frame["room"] == self.room:
            seq = frame["message"]["seq"]
            gap = seq > self.held() + 1 and seq - 1 not in self.seen
            self._take([frame["message"]])
            if gap:
                asyncio.ensure_future(self._fill(ws))
        elif kind == "history":
            self._take(frame["messages"])
            if frame["has_more"]:
                asyncio.ensure_future(self._fill(ws))
        elif kind == "error" and frame.get("code") == "server_error" and frame.get("ref") in self.outbox:
            # As the app's send queue: a send that failed on the server may go again (same client_id).
            client_id = frame["ref"]
            asyncio.get_running_loop().call_later(1, lambda: asyncio.ensure_future(self._resend(ws, client_id)))
        elif kind == "error":
            self.errors.append(f"{self.name}: {frame}")

    def _take(self, messages: list[dict]) -> None:
        for message in messages:
            if self.seen.setdefault(message["seq"], message["id"]) != message["id"]:
                self.errors.append(f"{self.name}: two messages #{message['seq']}")


async def test_restarting_each_process_in_turn_loses_nothing(restart_topology, tmp_path):
    topo = restart_topology
    offsets = topo.log_offsets()
    users = [await topo.new_user(home=i) for i in range(USERS)]
    rooms = [unique_room("restart") for _ in range(ROOMS)]
    (tmp_path / "nginx").mkdir()
    with nginx_in_front([s.port for s in topo.servers], tmp_path / "nginx") as proxy:
        # The rooms exist before the clients come (several first joins of one new room at once
        # are another test's matter).
        maker = await Socket.open(proxy, cookie=users[0].cookie_header())
        for room in rooms:
            await maker.join(room)
        await maker.close()
        clients = [Client(proxy=proxy, cookie=user.cookie_header(), room=room, name=f"{user.username}:{room}")
                   for user in users for room in rooms]
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(client.run(stop)) for client in clients]
        try:
            deadline = time.monotonic() + 60
            while not all(c.connected.is_set() for c in clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert all(c.connected.is_set() for c in clients), (
                sum(c.connected.is_set() for c in clients), [e for c in clients for e in c.errors][:5],
                [c.closes for c in clients if not c.connected.is_set()][:5],
            )
            await asyncio.sleep(3)
            for server in topo.servers:
                process, server.proc = server.proc, None
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                # It exits by itself, after the drain and the clean-up (compose allows 30 s).
                returncode = await asyncio.to_thread(process.wait, STOP_LIMIT)
                assert returncode == 0, (server.name, returncode, server.log()[-3000:])
                took = time.monotonic() - started
                print(f"{server.name} stopped in {took:.1f} s", flush=True)
                # The other process was there to take the clients: the closes were spread.
                assert took >= DRAIN_SECONDS * 0.8, (server.name, took)
                await asyncio.to_thread(server.start)
                await asyncio.sleep(3)
            for client in clients:
                client.sending = False
            # Every send is acknowledged in the end (resent after a close if need be).
            deadline = time.monotonic() + 30
            while any(c.outbox for c in clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert not [c.name for c in clients if c.outbox], [
                (c.name, c.connected.is_set(), c.closes, c.failures[-3:], time.monotonic()) for c in clients if c.outbox]
            # Every acknowledged message reaches every member of its room.
            stored = {room: {} for room in rooms}
            for client in clients:
                stored[client.room].update(client.acked)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                missing = {c.name: sorted(set(stored[c.room]) - set(c.seen)) for c in clients}
                missing = {name: seqs for name, seqs in missing.items() if seqs}
                if not missing:
                    break
                await asyncio.sleep(0.2)
            assert not [e for c in clients for e in c.errors], [e for c in clients for e in c.errors][:5]
            senders = {(c.room, seq): c.name for c in clients for seq in c.acked}
            assert not missing, f"{len(missing)} clients miss messages: " + "; ".join(
                f"{c.name} holds to {c.held()}, max {max(c.seen)}, closes {c.closes}, connected "
                f"{c.connected.is_set()} ({c.failures[-3:]}), misses {[(s, senders[c.room, s]) for s in missing[c.name]]}"
                for c in clients if c.name in missing
            )[:3000]
            for client in clients:
                assert {seq: stored[client.room][seq] for seq in client.seen} == client.seen, client.name
        finally:
            stop.set()
            await asyncio.gather(*(c.ws.close() for c in clients if c.ws is not None), return_exceptions=True)
            await asyncio.wait(tasks, timeout=5)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    assert not [e for c in clients for e in c.errors], [e for c in clients for e in c.errors][:5]
    closes = [code for c in clients for code in c.closes]
    waits = sorted(w for c in clients for w in c.waits)
    rejoins = sorted(w for c in clients for w in c.rejoins)
    print(f"{len(closes)} closes, {len(waits)} reconnects; connected again within {waits[-1]:.2f} s at most, "
          f"median {waits[len(waits) // 2]:.2f} s; joined again within {rejoins[-1]:.2f} s, median "
          f"{rejoins[len(rejoins) // 2]:.2f} s; {sum(len(s) for s in stored.values())} messages")
    # Each process had about half the clients when it stopped: every one of them was closed with 1012.
    assert len(closes) >= len(clients), closes
    assert set(closes) == {1012}, sorted(set(closes), key=str)
    assert len(waits) == len(closes)
    assert waits[int(len(waits) * 0.95)] <= RECONNECT_LIMIT and waits[-1] <= DRAIN_SECONDS, waits[-10:]
    topo.check_logs(offsets)


async def test_a_lone_process_on_redis_closes_its_sockets_at_once(tmp_path):
    """Nobody else listens to the channel layer's `processes` group, so no client
    can be taken before a successor starts: spreading the closes over the 5 s
    drain would only make the restart 5 s longer."""
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        topology = Topology(kind="lone", processes=1, redis=redis,
                            extra_env={**GENEROUS_LIMITS, "CHAT_DRAIN_SECONDS": str(DRAIN_SECONDS)})
        with running(topology):
            [user] = await topology.users(1)
            room = unique_room("lone")
            sockets = [await user.ws() for _ in range(20)]
            for sock in sockets:
                await sock.join(room)
            await sockets[0].say(room, "before the restart")
            server = topology.servers[0]
            process, server.proc = server.proc, None
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            codes = await asyncio.gather(*(sock.closed(timeout=DRAIN_SECONDS) for sock in sockets))
            closed_within = time.monotonic() - started
            returncode = await asyncio.to_thread(process.wait, STOP_LIMIT)
            assert returncode == 0, server.log()[-3000:]
            assert set(codes) == {1012}, codes
            assert closed_within < 1.5, closed_within  # not spread over DRAIN_SECONDS
            assert "no other process shares the channel layer" in server.log()
    finally:
        redis.stop()
