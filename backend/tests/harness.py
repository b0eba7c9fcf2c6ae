"""End-to-end harness: real Daphne processes, a real Redis and PostgreSQL, real clients.

`Server` is one Daphne subprocess; `Topology` is one deployment (embedded: one
Daphne on SQLite with the in-memory layer; scale-out: two Daphnes sharing a
redis-server and a fresh PostgreSQL database). `User` signs up over HTTP and
opens `Socket`s that keep every frame they did not yet hand to a test, so a
test waits for the frame it means, whatever arrives in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests import databases
from tests.databases import django_env

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent
VENV_BIN = Path(sys.executable).parent
PYTHON = VENV_BIN / "python"


# Long enough for a cold Daphne on a busy 2-core machine; a healthy one takes ~2 s.
STARTUP_DEADLINE = 45.0
# How long a test waits for a frame it expects before failing.
FRAME_DEADLINE = 10.0
# For topologies whose tests sign up many users from 127.0.0.1; the limit
# itself is tested on servers of its own (test_e2e_limits.py).
GENEROUS_SIGNUP_RATE = "100000/3600s"

# The operator's limits opened wide, for the suites that store hundreds of
# messages and open many rooms quickly; each limit is tested on servers of its own.
GENEROUS_LIMITS = {
    "CHAT_SEND_RATE": "100000/10s",
    "CHAT_FRAME_RATE": "100000",
    "CHAT_FRAME_BURST": "100000",
    "CHAT_ROOM_CREATE_RATE": "100000/10s",
    "CHAT_MAX_SOCKETS_PER_USER": "100000",
    "CHAT_SIGNUP_RATE": GENEROUS_SIGNUP_RATE,
}

ERROR_CODES = {"bad_json", "bad_frame", "invalid_room", "invalid_body", "not_joined", "rate_limited", "server_error"}
ROOM_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CREATED_AT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], deadline: float, what: str, interval: float = 0.1) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {deadline}s waiting for {what}")


def unique_room(prefix: str = "r") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


# ---- processes ---------------------------------------------------------------


class RedisServer:
    """A redis-server of our own on a free port, with `options` added to its command
    line; stopped and started again on the same port (it keeps nothing on disk)."""

    def __init__(self, workdir: Path, *options: str):
        self.port = free_port()
        self.workdir = Path(workdir)
        self.options = options
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server; make test does)")
        log = open(self.workdir / f"redis-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), *self.options],
            stdout=log, stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, 15, f"redis-server on {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up (with --requirepass: and locked)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


class PostgresDatabase:
    """A fresh database per run, migrated (a copy of tests/databases.py's template), dropped at the end."""

    def __init__(self):
        self.name = f"chat_e2e_{secrets.token_hex(6)}"

    @property
    def url(self) -> str:
        return databases.PG_URL.format(name=self.name)

    def create(self) -> None:
        databases.create_postgres(self.name)

    def drop(self) -> None:
        databases.drop_postgres(self.name)


class Endpoint:
    """Where clients reach a server on loopback: a Daphne, or a proxy in front."""

    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    @property
    def origin(self) -> str:
        return self.url


class Server(Endpoint):
    """One Daphne process serving config.asgi:application."""

    def __init__(self, *, name: str, var_dir: Path, env: dict[str, str], args: tuple[str, ...] = ()):
        self.name = name
        self.var_dir = var_dir
        self.port = free_port()
        self.env = env
        self.args = args  # more of Daphne's options (e.g. --proxy-headers)
        self.log_path = var_dir / f"daphne-{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        # The server's own entry point, as make run starts it.
        self.proc = subprocess.Popen(
            [str(PYTHON), "-m", "chat.serve", "--bind", "127.0.0.1", "--port", str(self.port), *self.args],
            cwd=BACKEND_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_until(self._healthy, STARTUP_DEADLINE, f"{self.name} /healthz (log: {self.log_path})", 0.2)

    def _healthy(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"daphne {self.name} exited early:\n{self.log()[-4000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def crash(self) -> None:
        """kill -9: no goodbye to anyone."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


class Topology:
    """A deployment: one or more Daphnes over the same store and channel layer.

    Its database is migrated before the servers start: a copy of a migrated
    template (tests/databases.py). A DATABASE_URL in `extra_env` must name one
    already migrated, such as a PostgresDatabase's.
    """

    def __init__(self, *, kind: str, processes: int = 1, redis: RedisServer | None = None,
                 redis_db: int = 0, postgres: bool = False, extra_env: dict[str, str] | None = None):
        self.kind = kind
        self.var_dir = Path(tempfile.mkdtemp(prefix=f"chat-e2e-{kind}-"))
        self.redis = redis
        self.own_redis = False
        self.redis_db = redis_db
        self.database = PostgresDatabase() if postgres else None
        self.extra_env = dict(extra_env or {})
        self.processes = processes
        self.servers: list[Server] = []
        self._pool: list[User] = []
        self._names = itertools.count()
        self.sockets: list[Socket] = []  # closed after each test

    def env(self) -> dict[str, str]:
        extra = dict(self.extra_env)  # may point REDIS_URL or DATABASE_URL at a proxy
        if self.redis is not None:
            extra.setdefault("REDIS_URL", f"{self.redis.url}/{self.redis_db}")
        if self.database is not None:
            extra.setdefault("DATABASE_URL", self.database.url)
        return django_env(self.var_dir, secret="e2e", **extra)

    def start(self) -> "Topology":
        if self.redis is None and self.processes > 1:
            self.redis = RedisServer(self.var_dir)
            self.redis.start()
            self.own_redis = True
        if self.database is not None:
            self.database.create()
        elif "DATABASE_URL" not in self.extra_env:  # SQLite, where settings put it
            databases.create_sqlite(self.var_dir / "db.sqlite3")
        env = self.env()
        for i in range(self.processes):
            server = Server(name=f"{self.kind}-{'ABCDEFGH'[i]}", var_dir=self.var_dir, env=env)
            self.servers.append(server)
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.own_redis and self.redis:
            self.redis.stop()
        if self.database is not None:
            try:
                self.database.drop()
            except Exception as exc:  # noqa: BLE001 - teardown must go on
                print(f"could not drop {self.database.name}: {exc}", file=sys.stderr)
        # Failures quote the logs; E2E_KEEP=1 keeps the whole folder for a closer look.
        if not os.environ.get("E2E_KEEP"):
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def server(self, index: int) -> Server:
        return self.servers[index % len(self.servers)]

    # ---- users -----------------------------------------------------------------

    async def new_user(self, home: int = 0) -> "User":
        server = self.server(home)
        username = f"u{next(self._names)}x{secrets.token_hex(4)}"
        password = "e2e-" + secrets.token_urlsafe(12)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.get("/api/session")
            assert r.status_code == 200, r.text
            csrf = http.cookies["csrftoken"]
            r = await http.post("/api/users", json={"username": username, "password": password},
                                headers={"X-CSRFToken": csrf})
            assert r.status_code == 201, (r.status_code, r.text)
            body = r.json()
            cookies = {name: http.cookies[name] for name in ("sessionid", "csrftoken")}
        return User(topology=self, id=body["user"]["id"], username=username, password=password,
                    cookies=cookies, home=home)

    async def users(self, n: int) -> list["User"]:
        """n distinct signed-up users, reused across tests (hashing a password costs ~0.5 s).
        The i-th user's sockets go to process i by default."""
        while len(self._pool) < n:
            self._pool.append(await self.new_user())
        users = self._pool[:n]
        for i, user in enumerate(users):
            user.home = i
        return users

    async def anon_ws(self, server: int = 0, **kwargs) -> "Socket":
        sock = await Socket.open(self.server(server), cookie=None, **kwargs)
        self.sockets.append(sock)
        return sock

    async def close_sockets(self) -> None:
        socks, self.sockets = self.sockets, []
        await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)
        for user in self._pool:
            user.sockets.clear()

    def check_logs(self, offsets: dict[str, int], allow: tuple[str, ...] = ()) -> None:
        """No traceback logged since offsets, except ones whose exception line names one of allow
        (e.g. a Redis connection error while the test itself restarts Redis)."""
        for server in self.servers:
            text = server.log_since(offsets.get(server.name, 0))
            for exc_line in traceback_exceptions(text):
                assert any(a in exc_line for a in allow), f"{server.name} logged a traceback ({exc_line}):\n{text[-6000:]}"

    def log_offsets(self) -> dict[str, int]:
        return {server.name: server.log_size() for server in self.servers}


@contextlib.contextmanager
def running(topology: Topology):
    """The topology started, and stopped afterwards however the start or the tests went."""
    try:
        yield topology.start()
    finally:
        topology.stop()


def traceback_exceptions(text: str) -> list[str]:
    """The exception line that ends each traceback in a log (chained ones count separately)."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            j = i + 1
            while j < len(lines) and lines[j].startswith(" "):
                j += 1
            found.append(lines[j] if j < len(lines) else line)
    return found


# ---- clients -------------------------------------------------------------------


class User:
    def __init__(self, *, topology: Topology, id: int, username: str, password: str,
                 cookies: dict[str, str], home: int):
        self.topology = topology
        self.id = id
        self.username = username
        self.password = password
        self.cookies = cookies
        self.home = home
        self.sockets: list[Socket] = []

    @property
    def wire(self) -> dict:
        return {"id": self.id, "username": self.username}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def http(self, server: int | None = None) -> httpx.AsyncClient:
        srv = self.topology.server(self.home if server is None else server)
        return httpx.AsyncClient(base_url=srv.url, cookies=dict(self.cookies), timeout=30,
                                 headers={"X-CSRFToken": self.cookies["csrftoken"]})

    async def ws(self, server: int | None = None, **kwargs) -> "Socket":
        srv = self.topology.server(self.home if server is None else server)
        sock = await Socket.open(srv, cookie=self.cookie_header(), name=f"{self.username}@{srv.name}", **kwargs)
        self.sockets.append(sock)
        self.topology.sockets.append(sock)
        return sock

    async def logout(self, server: int | None = None) -> httpx.Response:
        async with self.http(server) as http:
            return await http.delete("/api/session")


Pred = Callable[[dict], bool] | dict


def matches(pred: Pred, frame: dict) -> bool:
    if callable(pred):
        return bool(pred(frame))
    return all(frame.get(k) == v for k, v in pred.items())


class Socket:
    _refs = itertools.count(1)

    def __init__(self, conn: ClientConnection, name: str):
        self.conn = conn
        self.name = name
        self.inbox: list[dict] = []

    @classmethod
    async def open(cls, server: Endpoint, *, cookie: str | None, name: str = "anon",
                   origin: str | None = None, open_timeout: float = 20) -> "Socket":
        headers = {"Cookie": cookie} if cookie else {}
        conn = await connect(server.ws_url, additional_headers=headers, origin=origin or server.origin,
                             max_size=None, ping_interval=None, open_timeout=open_timeout, close_timeout=2)
        return cls(conn, name)

    async def send(self, frame: Any) -> None:
        await self.conn.send(json.dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        await self.conn.send(data)

    async def _recv(self, timeout: float) -> dict:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        frame = json.loads(raw)
        assert isinstance(frame, dict), f"{self.name}: non-object frame {raw!r}"
        return frame

    async def expect(self, pred: Pred, timeout: float = FRAME_DEADLINE) -> dict:
        """The first frame (buffered or new) matching pred; others stay buffered."""
        for i, frame in enumerate(self.inbox):
            if matches(pred, frame):
                return self.inbox.pop(i)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no frame matching {pred} within {timeout}s; got {self.inbox[-20:]}")
            try:
                frame = await self._recv(left)
            except asyncio.TimeoutError:
                continue
            except ConnectionClosed as exc:
                raise AssertionError(f"{self.name}: closed ({exc.rcvd and exc.rcvd.code}) while waiting for {pred};"
                                     f" got {self.inbox[-20:]}") from exc
            if matches(pred, frame):
                return frame
            self.inbox.append(frame)

    async def absent(self, pred: Pred, within: float) -> None:
        """No frame matching pred arrives within the window (for 'is not sent' rows)."""
        for frame in self.inbox:
            assert not matches(pred, frame), f"{self.name}: unexpected {frame}"
        end = time.monotonic() + within
        while (left := end - time.monotonic()) > 0:
            try:
                frame = await self._recv(left)
            except asyncio.TimeoutError:
                break
            assert not matches(pred, frame), f"{self.name}: unexpected {frame}"
            self.inbox.append(frame)

    async def request(self, frame: dict, timeout: float = FRAME_DEADLINE) -> dict:
        """Sends frame with a fresh ref; the reply (or error) carrying that ref."""
        ref = f"r{next(self._refs)}"
        await self.send({**frame, "ref": ref})
        return await self.expect(lambda f: f.get("ref") == ref, timeout)

    async def ok(self, frame: dict, reply_type: str, timeout: float = FRAME_DEADLINE) -> dict:
        reply = await self.request(frame, timeout)
        assert reply.get("type") == reply_type, f"{self.name}: {frame} -> {reply}"
        return reply

    async def join(self, room: str, **extra) -> dict:
        return await self.ok({"type": "join", "room": room, **extra}, "joined")

    async def say(self, room: str, body: str, client_id: str | None = None) -> dict:
        reply = await self.ok({"type": "send", "room": room, "body": body,
                               "client_id": client_id or str(uuid.uuid4())}, "sent")
        return reply["message"]

    async def ping(self, timeout: float = FRAME_DEADLINE) -> None:
        await self.ok({"type": "ping"}, "pong", timeout)

    async def closed(self, timeout: float = FRAME_DEADLINE) -> int | None:
        """Waits for the server to close the socket; its close code."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                frame = await asyncio.wait_for(self.conn.recv(), left)
                self.inbox.append(json.loads(frame))
            except ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None
            except asyncio.TimeoutError:
                break
        raise AssertionError(f"{self.name}: still open after {timeout}s")

    async def close(self) -> None:
        await self.conn.close()


async def send_many(sock: Socket, room: str, bodies: list[str], batch: int = 50) -> list[dict]:
    """Pipelines sends in batches; the stored messages in send order."""
    out: list[dict] = []
    for start in range(0, len(bodies), batch):
        refs = []
        for body in bodies[start:start + batch]:
            ref = f"m{next(Socket._refs)}"
            refs.append(ref)
            await sock.send({"type": "send", "room": room, "body": body, "client_id": str(uuid.uuid4()), "ref": ref})
        for ref in refs:
            reply = await sock.expect(lambda f, ref=ref: f.get("ref") == ref, 30)
            assert reply["type"] == "sent", reply
            out.append(reply["message"])
    # The live copies of our own messages are not what callers wait for.
    sock.inbox = [f for f in sock.inbox if not (f.get("type") == "message" and f.get("room") == room)]
    return out


async def full_history(sock: Socket, room: str, last_seq: int) -> list[dict]:
    """Every stored message of a joined room, via history pages of 100."""
    messages: list[dict] = []
    before = last_seq + 1
    while True:
        page = await sock.ok({"type": "history", "room": room, "before": before, "limit": 100}, "history")
        messages = page["messages"] + messages
        if not page["has_more"] or not page["messages"]:
            return messages
        before = page["messages"][0]["seq"]


# ---- a dependency that stalls ----------------------------------------------------


class StallProxy:
    """A TCP proxy on loopback in front of PostgreSQL or Redis that can stall.

    While `stalled`, it accepts connections and never answers, and passes
    nothing on over the connections it already holds: the dependency looks
    hung (not crashed). `resume()` passes the held bytes on again. It runs on
    a thread of its own, so sync and async tests use it alike.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        import threading

        self.target = (target_host, target_port)
        self.port = free_port()
        self._running = threading.Event()
        self._flowing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name=f"stall-proxy-{self.port}", daemon=True)

    def start(self) -> "StallProxy":
        self._thread.start()
        if not self._running.wait(10):
            raise RuntimeError("the stall proxy did not start")
        return self

    def stall(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.set)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._flowing.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self._running.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()  # a stalled dependency accepts and says nothing
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


def metric(text: str, name: str, **labels) -> float:
    """A sample's value in Prometheus' text format (0 if absent)."""
    label_text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + label_text + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found[1]) if found else 0.0


def rss_kib(pid: int) -> int:
    """A process's resident memory in KiB (/proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
