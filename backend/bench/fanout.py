#!/usr/bin/env python
"""Fan-out benchmark: server CPU per delivered message in one big room.

    .venv/bin/python backend/bench/fanout.py --users 500 --messages 200 --rate 20 [--redis] [--postgres] [--tutorial] [--json]

What it does, all on loopback and bounded in time:

1. Starts its own services in a temp dir: a redis-server on a free port
   (--redis), a fresh PostgreSQL database on 127.0.0.1:5432 (--postgres, dropped
   at the end), else SQLite in the temp CHAT_VAR_DIR and the in-memory layer.
2. Migrates, then creates N users and logged-in sessions straight through the
   ORM in a subprocess (no HTTP sign-up: password hashing would dominate).
3. Starts Daphne (config.asgi, or bench.tutorial_asgi with --tutorial) with
   CHAT_SEND_RATE far above the load.
4. Connects N websockets (the `websockets` library, one asyncio process, in
   batches) with the session cookie; each joins room "bench" (tutorial: opens
   /ws/chat/bench/). Waits until the server is idle again (joins cost presence
   frames).
5. One of the sockets sends M messages at --rate per second; every socket, the
   sender's included, counts the `message` frames it gets, by seq (tutorial: by
   the index the sender put in front of the text).
6. Server CPU = utime+stime of the Daphne process (/proc/<pid>/stat) from just
   before the first send until every expected frame arrived (or --timeout after
   the last send). Reported: µs of server CPU per delivered frame
   (CPU / frames delivered), frames lost, p50/p99 latency from send to receipt
   (one process, one clock), server RSS after connecting. With --redis or
   --postgres the CPU of our redis-server and of the PostgreSQL backends serving
   the bench database is reported apart ("+redis/pg").

--py-spy OUT.svg records a flame graph of the server during the measured window
(OUT.txt: collapsed stacks). py-spy must be installed in the venv; it pauses
the process to sample, so the CPU figure of that run is a little high.

--app MODULE:application runs another ASGI app that speaks our protocol, for
experiments (bench/variant_asgi.py: the session resolved once per socket).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BACKEND = HERE.parent
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
ROOM = "bench"


# ---- process helpers ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    """utime + stime of every thread of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def proc_wait(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a core (other load on the machine)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[1])
    return total / 1e9


def proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def wait_port(port: int, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- services ----------------------------------------------------------------------


def start_redis(stack: contextlib.ExitStack, tmp: Path) -> str:
    port = free_port()
    log = open(tmp / "redis.log", "wb")
    stack.callback(log.close)
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    stack.callback(stop, proc)
    wait_port(port, proc, 10, "redis-server")
    return f"redis://127.0.0.1:{port}/0", proc.pid


def create_database(stack: contextlib.ExitStack) -> str:
    import psycopg

    name = f"bench_fanout_{os.getpid()}_{int(time.time())}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return f"postgres://postgres@127.0.0.1:5432/{name}", name


def postgres_backends(name: str) -> list[int]:
    """PIDs of the PostgreSQL backends serving our database (the server's connections)."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            (name,)).fetchall()
    return [row[0] for row in rows]


def cpu_of(pids: dict[int, float]) -> dict[int, float]:
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            out[pid] = proc_cpu(pid)
    return out


def setup_sessions(count: int, out: str) -> None:
    """Subprocess mode: N users with unusable passwords and a logged-in session each."""
    sys.path.insert(0, str(BACKEND))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    User = get_user_model()
    unusable = make_password(None)
    User.objects.bulk_create([User(username=f"bench{i:05d}", password=unusable) for i in range(count)])
    users = list(User.objects.filter(username__startswith="bench").order_by("username")[:count])
    store = SessionStore()
    expire = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    sessions, keys = [], []
    for user in users:
        key = store._get_new_session_key()
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys.append(key)
    Session.objects.bulk_create(sessions)
    Path(out).write_text(json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "keys": keys}))


# ---- load generator ----------------------------------------------------------------


class Load:
    def __init__(self, *, tutorial: bool, messages: int):
        self.tutorial = tutorial
        self.messages = messages
        self.sent_at = [0.0] * (messages + 1)
        self.latencies: list[float] = []
        self.delivered = 0  # first receipts of expected frames
        self.duplicates = 0
        self.unexpected = 0
        self.errors: list[str] = []
        self.acks = 0
        self.expected = 0
        self.done = asyncio.Event()

    async def read(self, ws, joined: asyncio.Event) -> None:
        got = bytearray(self.messages + 1)
        perf = time.perf_counter
        loads = json.loads
        tutorial = self.tutorial
        try:
            async for raw in ws:
                now = perf()
                if tutorial:
                    index = int(loads(raw)["message"].split(":", 1)[0])
                    seq = index
                elif raw.startswith('{"type":"message"'):
                    message = loads(raw)["message"]
                    seq = message["seq"]
                    index = int(message["body"].split(":", 1)[0])
                else:
                    if raw.startswith('{"type":"joined"'):
                        joined.set()
                    elif raw.startswith('{"type":"sent"'):
                        self.acks += 1
                    elif raw.startswith('{"type":"error"'):
                        self.errors.append(raw)
                    continue
                if not 0 < seq <= self.messages:
                    self.unexpected += 1
                    continue
                if got[seq]:
                    self.duplicates += 1
                    continue
                got[seq] = 1
                self.latencies.append(now - self.sent_at[index])
                self.delivered += 1
                if self.delivered == self.expected:
                    self.done.set()
        except Exception as error:  # the socket closed under us: counted as lost frames
            self.errors.append(f"reader: {error!r}")


async def open_socket(load: Load, url: str, headers: dict, open_timeout: float):
    from websockets.asyncio.client import connect

    ws = await connect(
        url, additional_headers=headers, compression=None, ping_interval=None,
        open_timeout=open_timeout, max_size=2**20,
    )
    joined = asyncio.Event()
    task = asyncio.create_task(load.read(ws, joined))
    if not load.tutorial:
        await ws.send(json.dumps({"type": "join", "room": ROOM}))
        await asyncio.wait_for(joined.wait(), open_timeout)
    return ws, task


async def wait_idle(pid: int, *, window: float = 0.5, threshold: float = 0.03, limit: float = 60.0) -> float:
    """Waits until the server burns under `threshold` of a core over `window`; returns the wait."""
    start = time.monotonic()
    before = proc_cpu(pid)
    while time.monotonic() - start < limit:
        await asyncio.sleep(window)
        now = proc_cpu(pid)
        if now - before <= threshold * window:
            break
        before = now
    return time.monotonic() - start


async def drive(args, *, port: int, pid: int, cookie: str | None, keys: list[str], aux_pids):
    """The measured figures and the open sockets (just the figures if none connected)."""
    load = Load(tutorial=args.tutorial, messages=args.messages)
    if args.tutorial:
        url = f"ws://127.0.0.1:{port}/ws/chat/{ROOM}/"
    else:
        url = f"ws://127.0.0.1:{port}/ws/"
    sockets: list = []
    failures: list[str] = []
    t_connect = time.monotonic()
    cpu_connect = proc_cpu(pid)
    for start in range(0, args.users, args.batch):
        batch = range(start, min(start + args.batch, args.users))
        results = await asyncio.gather(
            *(open_socket(load, url, {"Cookie": f"{cookie}={keys[i]}"} if cookie else {}, args.open_timeout)
              for i in batch),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                failures.append(repr(result))
            else:
                sockets.append(result)
    connect_s = time.monotonic() - t_connect
    settle_s = await wait_idle(pid)
    connect_cpu = proc_cpu(pid) - cpu_connect
    rss = proc_rss(pid)

    result: dict = {
        "connected": len(sockets), "connect_failures": len(failures),
        "connect_failure_sample": failures[:3], "connect_s": round(connect_s, 2),
        "settle_s": round(settle_s, 2), "connect_server_cpu_s": round(connect_cpu, 2),
        "server_rss_mb": round(rss / 2**20, 1),
    }
    if not sockets:
        return result
    receivers = len(sockets)
    load.expected = args.messages * receivers
    sender = sockets[0][0]
    payload = "x" * args.payload

    spy = None
    if args.py_spy:
        spy = subprocess.Popen(
            [str(BIN / "py-spy"), "record", "-o", args.py_spy, "--pid", str(pid), "--rate", "250",
             "--format", "raw" if args.py_spy.endswith(".txt") else "flamegraph"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)

    client_cpu0 = sum(os.times()[:2])
    aux0 = cpu_of(aux_pids())
    cpu0, wait0 = proc_cpu(pid), proc_wait(pid)
    t0 = time.perf_counter()
    for i in range(1, args.messages + 1):
        delay = t0 + (i - 1) / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if args.tutorial:
            frame = json.dumps({"message": f"{i}:{payload}"})
        else:
            frame = json.dumps({"type": "send", "room": ROOM, "body": f"{i}:{payload}", "client_id": f"bench-{i}"})
        load.sent_at[i] = time.perf_counter()
        await sender.send(frame)
    t_sent = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load.done.wait(), args.timeout)
    cpu1, wait1 = proc_cpu(pid), proc_wait(pid)
    t1 = time.perf_counter()
    aux1 = cpu_of(aux_pids())
    # Backends that came or went meanwhile count from zero / not at all.
    aux = sum(aux1[p] - aux0.get(p, 0.0) for p in aux1)
    client_cpu = sum(os.times()[:2]) - client_cpu0
    if spy is not None:
        stop(spy, signal.SIGINT, grace=30)

    lat = sorted(load.latencies)

    def pct(p: float):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

    cpu = cpu1 - cpu0
    result.update({
        "receivers": receivers, "expected": load.expected, "delivered": load.delivered,
        "lost": load.expected - load.delivered, "duplicates": load.duplicates,
        "acks": load.acks if not args.tutorial else None,
        "errors": len(load.errors), "error_sample": load.errors[:3],
        "server_cpu_s": round(cpu, 3),
        "us_per_delivery": round(cpu * 1e6 / load.delivered, 1) if load.delivered else None,
        "server_cores_busy": round(cpu / (t1 - t0), 2),
        "aux_cpu_s": round(aux, 3) if (args.redis or args.postgres) else None,
        "aux_us_per_delivery": round(aux * 1e6 / load.delivered, 1) if load.delivered and (args.redis or args.postgres) else None,
        "server_runqueue_wait_s": round(wait1 - wait0, 2),
        "load_avg_1m": os.getloadavg()[0],
        "send_s": round(t_sent - t0, 2), "drain_s": round(t1 - t_sent, 2),
        "latency_p50_ms": pct(0.50), "latency_p99_ms": pct(0.99), "latency_max_ms": pct(1.0),
        "client_cpu_s": round(client_cpu, 2),
    })
    for ws, task in sockets:
        task.cancel()
    return result, sockets


# ---- main --------------------------------------------------------------------------


def run(args) -> dict:
    result: dict = {
        "design": "tutorial" if args.tutorial else ("ours" if not args.app else args.app.split(":")[0]),
        "layer": "redis" if args.redis else "memory",
        "store": "none" if args.tutorial else ("postgres" if args.postgres else "sqlite"),
        "users": args.users, "messages": args.messages, "rate": args.rate, "payload": args.payload,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
        stack.callback(shutil.rmtree, tmp, True)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "bench-" + os.urandom(8).hex(),
            "CHAT_VAR_DIR": str(tmp),
            "CHAT_SEND_RATE": "1000000/1s",
            # The load generator's users hold many sockets and make rooms fast.
            "CHAT_MAX_SOCKETS_PER_USER": "1000000",
            "CHAT_ROOM_CREATE_RATE": "1000000/1s",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
        env.pop("REDIS_URL", None)
        env.pop("DATABASE_URL", None)
        redis_pid, database = None, None
        if args.redis:
            env["REDIS_URL"], redis_pid = start_redis(stack, tmp)
        if args.postgres:
            env["DATABASE_URL"], database = create_database(stack)

        def aux_pids() -> list[int]:
            """Redis and PostgreSQL work for the server too: measured apart."""
            return ([redis_pid] if redis_pid else []) + (postgres_backends(database) if database else [])

        cookie, keys = None, []
        if not args.tutorial:
            subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=BACKEND, env=env,
                           check=True)
            out = tmp / "sessions.json"
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--setup-sessions", str(args.users),
                            "--out", str(out)], cwd=BACKEND, env=env, check=True)
            data = json.loads(out.read_text())
            cookie, keys = data["cookie"], data["keys"]

        port = free_port()
        app = args.app or ("bench.tutorial_asgi:application" if args.tutorial else "config.asgi:application")
        log = open(tmp / "daphne.log", "wb")
        stack.callback(log.close)
        daphne = subprocess.Popen(
            # The tutorial's design runs on plain Daphne; ours on its own entry point.
            [str(BIN / "daphne"), "--bind", "127.0.0.1", "--port", str(port), app] if args.tutorial
            else [str(BIN / "python"), "-m", "chat.serve", "--bind", "127.0.0.1", "--port", str(port), app],
            cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        stack.callback(stop, daphne)
        wait_port(port, daphne, 30, "daphne")
        result["server_pid"] = daphne.pid

        async def main():
            out = await drive(args, port=port, pid=daphne.pid, cookie=cookie, keys=keys, aux_pids=aux_pids)
            if isinstance(out, tuple):
                measured, sockets = out
                # Stop the server before closing the sockets: 500 goodbyes would
                # each cost a presence broadcast to everyone left.
                stop(daphne)
                for ws, _task in sockets:
                    ws.transport.abort()
                await asyncio.sleep(0)
                return measured
            return out

        result.update(asyncio.run(main()))
        log.flush()
        tail = (tmp / "daphne.log").read_text(errors="replace").strip().splitlines()[-5:]
        result["server_log_tail"] = tail
    return result


TABLE = [
    ("design", "design"), ("layer", "layer"), ("store", "store"), ("receivers", "sockets"),
    ("messages", "msgs"), ("us_per_delivery", "µs CPU/delivery"), ("aux_us_per_delivery", "+redis/pg µs"), ("lost", "lost"),
    ("latency_p50_ms", "p50 ms"), ("latency_p99_ms", "p99 ms"), ("server_rss_mb", "RSS MB"),
    ("server_cores_busy", "cores"),
]


def print_table(result: dict) -> None:
    header = [title for _key, title in TABLE]
    row = ["-" if result.get(key) is None else str(result.get(key)) for key, _title in TABLE]
    widths = [max(len(a), len(b)) for a, b in zip(header, row)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    print(" | ".join(r.ljust(w) for r, w in zip(row, widths)))
    extra = {k: result.get(k) for k in (
        "connected", "connect_failures", "expected", "delivered", "duplicates", "errors", "server_cpu_s", "aux_cpu_s",
        "send_s", "drain_s", "server_runqueue_wait_s", "load_avg_1m", "latency_max_ms", "connect_s", "settle_s", "connect_server_cpu_s",
        "client_cpu_s", "date", "machine")}
    print(" ".join(f"{k}={v}" for k, v in extra.items()))
    for sample in (result.get("connect_failure_sample") or []) + (result.get("error_sample") or []):
        print("  sample:", sample[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="messages per second from the one sender")
    parser.add_argument("--payload", type=int, default=64, help="characters of filler in each body")
    parser.add_argument("--redis", action="store_true", help="channel layer, presence and rate limit in Redis")
    parser.add_argument("--postgres", action="store_true", help="store in a fresh PostgreSQL database")
    parser.add_argument("--tutorial", action="store_true", help="the Channels tutorial design as a baseline")
    parser.add_argument("--app", help="another ASGI app speaking our protocol (experiments), e.g. bench.variant_asgi:application")
    parser.add_argument("--batch", type=int, default=50, help="sockets connected at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait after the last send")
    parser.add_argument("--open-timeout", type=float, default=30.0)
    parser.add_argument("--py-spy", metavar="OUT.svg", help="record a py-spy flame graph of the measured window")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--setup-sessions", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup_sessions is not None:
        setup_sessions(args.setup_sessions, args.out)
        return
    if args.users < 1 or args.messages < 1 or args.rate <= 0:
        parser.error("--users, --messages and --rate must be positive")
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
