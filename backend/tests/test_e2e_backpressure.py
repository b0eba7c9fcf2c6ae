"""One socket cannot grow the server's memory, nor slow down anyone else.

Against a real server (python -m chat.serve on SQLite and the in-memory layer,
the shipped per-socket limits), three attacks from issue 6, each while a
bystander in the same room keeps chatting:

- a client sends 1,000 `history` requests with big answers and never reads;
- a client sends 3,000 frames of almost 64 KiB as fast as it can;
- twenty sockets join a busy room and never read.

For each, the server's resident memory stays within a bound, the bystander's
messages keep arriving (p99 under 1 s: starved, they took seconds; the bound
is about starvation, not speed), and a socket that never reads is closed (1013)
instead of holding its output for ever. The first attack also shows, in the
server's own counts (/metrics), that the server stops working for a socket
whose answers wait unsent, and for good once it closed it: of the 1,000
requests it answers a few.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from .harness import GENEROUS_SIGNUP_RATE, Socket, Topology, metric, rss_kib, running, send_many, unique_room

pytestmark = pytest.mark.e2e

# How much the server's memory may grow during one attack. Without flow control
# the first attack alone grew it by about 370 MiB.
RSS_GROWTH_LIMIT_MIB = 48
# Starvation, not speed: a quiet machine gives about 0.05 s, a busy two-core CI
# machine has shown 0.5 s (and 2.2 s once, most likely while the server still
# answered a closed socket's requests: ATTACK_WORK_LIMIT).
BYSTANDER_P99_LIMIT = 1.0
# Requests of the first attack the server may answer, of 1,000: those before its
# output backed up (its buffers and the kernel's hold a few answers) and those its
# lanes held (chat/lanes.py). Without a check that the socket is still there, it
# went on answering, into the void, every request it had read: 265 here.
ATTACK_WORK_LIMIT = 100
# Long enough for the server to find a socket's output stuck (CHAT_SLOW_CLIENT_SECONDS,
# 5 s), close it with 1013 and drop it when the close handshake does not come
# (5 s more): a socket that never reads is gone by then.
SLOW_WAIT = 12
LONG_BODY = "x" * 4000  # 100 of them make a history answer of about 400 KB


class NeverReads:
    """A WebSocket client on a bare TCP socket that writes frames and never reads them.

    Its receive buffer is tiny, so the server's output backs up at once, as it
    would behind a stalled phone or a deliberate attacker.
    """

    def __init__(self, port: int, cookie: str, origin: str):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nCookie: {cookie}\r\nOrigin: {origin}\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            assert chunk, "the server closed the handshake"
            response += chunk
        assert response.startswith(b"HTTP/1.1 101"), response[:200]

    @staticmethod
    def frame(payload: bytes) -> bytes:
        # A zero masking key: the frame is masked, as a client's must be, and the
        # payload stays as it is (servers must take any key).
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        return header + b"\0\0\0\0" + payload

    def send(self, frame: dict) -> None:
        self.sock.sendall(self.frame(json.dumps(frame).encode()))

    def send_many(self, frames: list[bytes], within: float) -> int:
        """Writes pre-built frames until done or `within` seconds pass; how many went."""
        self.sock.settimeout(0.2)
        end, sent = time.monotonic() + within, 0
        for data in frames:
            view = memoryview(data)
            while view and time.monotonic() < end:
                try:
                    view = view[self.sock.send(view):]
                except (TimeoutError, BlockingIOError):
                    continue
                except OSError:
                    return sent
            if view:
                return sent
            sent += 1
        return sent

    def closed_by_server(self, within: float) -> bool:
        """Reads (and drops) whatever arrives until the server ends the connection.
        Only call it once the server had its chance to close a socket that does
        not read (SLOW_WAIT): reading drains the backlog."""
        self.sock.settimeout(0.5)
        end = time.monotonic() + within
        while time.monotonic() < end:
            try:
                if not self.sock.recv(1 << 20):
                    return True
            except TimeoutError:
                continue
            except OSError:  # reset: the server aborted the connection
                return True
        return False

    def close(self) -> None:
        self.sock.close()


class MemoryWatch:
    """Samples a process's RSS every 50 ms; the peak above the baseline."""

    def __init__(self, pid: int):
        self.pid = pid
        self.baseline = rss_kib(pid)
        self.peak = self.baseline
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "MemoryWatch":
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, rss_kib(self.pid))

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_kib(self.pid))
            await asyncio.sleep(0.05)

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / 1024


# Messages a bystander sends at least, whatever the attack's length (p99 needs 20 back).
SAMPLES = 30


class Bystander:
    """Two people chatting in the room while the attack goes on: one sends ten
    messages a second, the other measures how long each takes to arrive."""

    def __init__(self, sender: Socket, reader: Socket, room: str):
        self.sender, self.reader, self.room = sender, reader, room
        self.latencies: list[float] = []
        self._sent_at: dict[str, float] = {}
        self._tasks: list[asyncio.Task] = []
        self._start = 0.0
        # For a failure's message: the messages over a second late (when sent,
        # in seconds from the start, and how late), and the moments this test
        # process's own event loop stalled (when, and for how long), which
        # would make the server look slow when it was not.
        self.late: list[tuple[float, float]] = []
        self.stalls: list[tuple[float, float]] = []

    async def __aenter__(self) -> "Bystander":
        self._start = time.monotonic()
        self._tasks = [asyncio.create_task(job()) for job in (self._send, self._read, self._watch_loop)]
        return self

    async def __aexit__(self, *exc) -> None:
        # An attack the server shrugs off quickly still leaves the bystander
        # enough messages to measure: it goes on until it has sent SAMPLES.
        deadline = time.monotonic() + SAMPLES * 0.1 + 10
        while len(self._sent_at) < SAMPLES and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)  # the last ones arrive
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _send(self) -> None:
        while True:
            client_id = str(uuid.uuid4())
            self._sent_at[client_id] = time.monotonic()
            await self.sender.send({"type": "send", "room": self.room, "body": "still here", "client_id": client_id})
            await asyncio.sleep(0.1)

    async def _read(self) -> None:
        while True:
            frame = json.loads(await self.reader.conn.recv())
            if frame.get("type") == "message" and frame["message"]["client_id"] in self._sent_at:
                sent_at = self._sent_at[frame["message"]["client_id"]]
                self.latencies.append(time.monotonic() - sent_at)
                if self.latencies[-1] > 1:
                    self.late.append((round(sent_at - self._start, 2), round(self.latencies[-1], 2)))

    async def _watch_loop(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.05)
            stalled = time.monotonic() - before - 0.05
            if stalled > 0.2:
                self.stalls.append((round(before - self._start, 2), round(stalled, 2)))

    def p99(self) -> float:
        assert len(self.latencies) >= 20, f"the bystander got only {len(self.latencies)} messages"
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def __repr__(self) -> str:
        slowest = sorted(self.latencies)[-5:]
        return (f"<Bystander: {len(self.latencies)} messages, slowest {[round(x * 1000) for x in slowest]} ms; "
                f"over 1 s late (sent at s, late by s): {self.late}; this process stalled (at s, for s): {self.stalls}>")


@pytest.fixture(scope="module")
def flow_topology():
    # The shipped per-socket limits, but for sign-ups, the send rate (the bystander sends
    # ten a second for the length of every attack) and a quarter of the default
    # output buffer, so that a busy room fills a silent socket's within seconds.
    topology = Topology(kind="backpressure",
                        extra_env={"CHAT_SEND_RATE": "100000/10s", "CHAT_SOCKET_BUFFER_BYTES": str(256 * 1024),
                                   "CHAT_SIGNUP_RATE": GENEROUS_SIGNUP_RATE})
    with running(topology):
        yield topology


@pytest.fixture
async def scene(flow_topology):
    """A room with 100 long messages, a bystander pair in it, the server's pid."""
    offsets = flow_topology.log_offsets()
    attacker, talker, listener = await flow_topology.users(3)
    room = unique_room("busy")
    sender = await talker.ws()
    await sender.join(room)
    await send_many(sender, room, [LONG_BODY] * 100, batch=50)
    reader = await listener.ws()
    await reader.join(room)
    yield attacker, room, Bystander(sender, reader, room), flow_topology.servers[0]
    await flow_topology.close_sockets()
    flow_topology.check_logs(offsets)


def _attacker(user, server) -> NeverReads:
    return NeverReads(server.port, user.cookie_header(), server.origin)


async def frames_counted(server, kind: str) -> tuple[float, float]:
    """How many `kind` frames the server has read from its sockets, and answered, so far."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{server.url}/metrics")).text
    return metric(text, "chat_frames_in_total", type=kind), metric(text, "chat_frames_out_total", type=kind)


async def test_history_requests_that_are_never_read_cannot_grow_memory(scene):
    attacker, room, bystander, server = scene
    raw = _attacker(attacker, server)
    raw.send({"type": "join", "room": room})
    requests = [NeverReads.frame(json.dumps({"type": "history", "room": room, "before": 101, "limit": 100,
                                             "ref": f"h{i}"}).encode()) for i in range(1000)]
    read_before, answered_before = await frames_counted(server, "history")
    async with MemoryWatch(server.proc.pid) as memory, bystander:
        await asyncio.to_thread(raw.send_many, requests, 5)
        # Its output backs up: the server stops serving it, then closes it (1013).
        await asyncio.sleep(SLOW_WAIT)
        read, answered = await frames_counted(server, "history")
        assert await asyncio.to_thread(raw.closed_by_server, 5), "a socket that never reads was kept open"
    raw.close()
    read, answered = read - read_before, answered - answered_before
    # It may read them all (1,000 frames of 100 bytes), but answers only a few.
    assert 0 < answered < ATTACK_WORK_LIMIT, f"the server read {read:.0f} requests and answered {answered:.0f}"
    assert memory.growth_mib < RSS_GROWTH_LIMIT_MIB, f"the server grew by {memory.growth_mib:.0f} MiB"
    assert bystander.p99() < BYSTANDER_P99_LIMIT, f"bystander p99 {bystander.p99() * 1000:.0f} ms: {bystander!r}"


async def test_a_flood_of_big_frames_cannot_grow_memory(scene):
    attacker, room, bystander, server = scene
    raw = _attacker(attacker, server)
    # Almost 64 KiB each: under the frame cap, so every one must be read and answered.
    padding = "p" * (64 * 1024 - 100)
    flood = [NeverReads.frame(json.dumps({"type": "ping", "ref": "f", "pad": padding}).encode())] * 3000
    async with MemoryWatch(server.proc.pid) as memory, bystander:
        sent = await asyncio.to_thread(raw.send_many, flood, 15)
    raw.close()
    assert sent > 100, f"only {sent} frames went out"
    assert memory.growth_mib < RSS_GROWTH_LIMIT_MIB, f"the server grew by {memory.growth_mib:.0f} MiB after {sent} frames"
    assert bystander.p99() < BYSTANDER_P99_LIMIT, f"bystander p99 {bystander.p99() * 1000:.0f} ms: {bystander!r}"


async def test_sockets_that_never_read_are_closed_and_spare_the_room(scene, flow_topology):
    attacker, room, bystander, server = scene
    users = [attacker, *await flow_topology.users(5)][-2:]
    raws = []
    for user in users:
        for _ in range(5):
            raw = _attacker(user, server)
            raw.send({"type": "join", "room": room})
            raws.append(raw)
    # A busy room: someone posts long messages, forty a second, which each
    # silent socket is sent and never takes.
    firehose = await (await flow_topology.users(7))[-1].ws()
    await firehose.join(room)

    async def post() -> None:
        while True:
            await firehose.send({"type": "send", "room": room, "body": LONG_BODY, "client_id": str(uuid.uuid4())})
            await asyncio.sleep(0.025)

    async with MemoryWatch(server.proc.pid) as memory, bystander:
        posting = asyncio.create_task(post())
        await asyncio.sleep(SLOW_WAIT + 8)  # time to fill their buffers, then the grace and the close
        posting.cancel()
        closed = await asyncio.gather(*(asyncio.to_thread(raw.closed_by_server, 5) for raw in raws))
    for raw in raws:
        raw.close()
    assert all(closed), f"{closed.count(False)} of {len(raws)} sockets that never read were kept open"
    assert memory.growth_mib < RSS_GROWTH_LIMIT_MIB, f"the server grew by {memory.growth_mib:.0f} MiB"
    assert bystander.p99() < BYSTANDER_P99_LIMIT, f"bystander p99 {bystander.p99() * 1000:.0f} ms: {bystander!r}"


async def test_a_slow_socket_is_closed_with_1013_and_catches_up(scene, flow_topology):
    """The close code a client sees when its output backed up, and its way back."""
    attacker, room, _bystander, server = scene
    from websockets.asyncio.client import connect

    # max_queue=1: the client library stops reading after one frame, like a stalled
    # tab; once the kernel's buffers are full, the server's output backs up.
    conn = await connect(server.ws_url, additional_headers={"Cookie": attacker.cookie_header()},
                         origin=server.origin, max_size=None, max_queue=1, ping_interval=None)
    await conn.send(json.dumps({"type": "join", "room": room}))
    for i in range(40):
        await conn.send(json.dumps({"type": "history", "room": room, "before": 101, "limit": 100, "ref": f"s{i}"}))
    await asyncio.sleep(7)  # past the 5 s of grace: the server closes it with 1013
    with pytest.raises(ConnectionClosed):
        while True:  # reading again, it finds the close frame behind the backlog
            await asyncio.wait_for(conn.recv(), 10)
    assert conn.close_code == 1013
    # Back with `since`, it gets what it missed from the store.
    again = await attacker.ws()
    joined = await again.join(room, since=90)
    assert [m["seq"] for m in joined["messages"]][:10] == list(range(91, 101))
