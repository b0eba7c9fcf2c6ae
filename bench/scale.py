#!/usr/bin/env python3
"""Scale simulation: several Daphne processes over Redis shards, one machine.

    .venv/bin/python bench/scale.py                      # the full run (docs/deploy.md)
    .venv/bin/python bench/scale.py --sockets 400 --rooms 20 --rate 8 --compare-sockets 100

Each configuration starts its own redis-servers (free ports, REDIS_URLS lists
them all), a fresh PostgreSQL database, and N `python -m chat.serve` processes
with every limit at its default. Users and their sessions are written straight
into the database (one user per socket, no password to hash), then the load
generator (loadgen/loadgen.js, chat adapter with `sessions=`) opens one socket
per user, spread so every room's members sit on every process, joins rooms of
`sockets / rooms`, stays idle for --idle seconds (what heartbeats, presence and
the sweep cost on their own), then sends --rate messages a second for
--duration seconds. Figures per window, per process and per Redis: CPU, RSS,
Redis commands (INFO commandstats), presence keys and their memory, Redis
pub/sub channels, the slowest Redis calls; deliveries/s and latency from the
load generator. The comparison configuration (one process, one Redis, a
quarter of the sockets and rooms, same per-socket rate) runs after it.

Results: one JSON file in results/ (scale-<time>.json) and a summary on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BACKEND = REPO / "backend"
PYTHON = REPO / ".venv" / "bin" / "python"
LOADGEN = HERE / "loadgen" / "loadgen.js"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
sys.path.insert(0, str(HERE))
import run as harness  # noqa: E402 - /proc helpers (tree_cpu, tree_rss, machine_cpu, pg_backends_cpu)


# ---- seeding (runs as a subprocess with the servers' settings) -------------------


def seed(users: int, out: str) -> None:
    """`users` users and a logged-in session each, written in bulk; their cookies to `out`."""
    sys.path.insert(0, str(BACKEND))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    model = get_user_model()
    made = model.objects.bulk_create(
        [model(username=f"s{i:06d}", password=make_password(None)) for i in range(users)], batch_size=2000
    )
    encoder, expires, sessions, cookies = SessionStore(), timezone.now() + timedelta(days=1), [], []
    for user in made:
        key = secrets.token_hex(16)
        data = {SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()}
        sessions.append(Session(session_key=key, session_data=encoder.encode(data), expire_date=expires))
        cookies.append(f"sessionid={key}")
    Session.objects.bulk_create(sessions, batch_size=2000)
    Path(out).write_text(json.dumps({"servers": [], "cookies": cookies}))


# ---- processes -------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_client(port: int):
    import redis

    return redis.Redis(port=port, decode_responses=True, socket_timeout=30)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir), "--slowlog-log-slower-than", "2000",
                             "--slowlog-max-len", "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if redis_client(port).ping():
                return proc, port
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)


def pg_figures(database: str) -> dict:
    """The WAL position (bytes written since the cluster began) and the message table's size."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={database}", autocommit=True) as conn:
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()[0]
        rows, size = conn.execute(
            "SELECT count(*), pg_total_relation_size('chat_message') FROM chat_message").fetchone()
    return {"wal": int(wal), "messages": rows, "message_bytes": size}


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


# ---- measuring -------------------------------------------------------------------


def redis_snapshot(port: int) -> dict:
    client = redis_client(port)
    info = client.info("all")
    stats = {name[len("cmdstat_"):]: {"calls": v["calls"], "usec": v["usec"]}
             for name, v in info.items() if name.startswith("cmdstat_")}
    return {"cpu": info["used_cpu_sys"] + info["used_cpu_user"], "commands": info["total_commands_processed"],
            "cmd": stats, "used_memory": info["used_memory"], "net_out": info["total_net_output_bytes"]}


def key_figures(port: int) -> dict:
    """Presence and socket-registry keys and their bytes (MEMORY USAGE), pub/sub channels."""
    client = redis_client(port)
    out = {"pubsub_channels": len(client.pubsub_channels())}
    for name, pattern in (("presence", "chat:presence:*"), ("sockets", "chat:sockets:*")):
        keys = list(client.scan_iter(match=pattern, count=1000))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.memory_usage(key, samples=0)
        out[f"{name}_keys"] = len(keys)
        out[f"{name}_bytes"] = sum(size or 0 for size in pipe.execute()) if keys else 0
    out["used_memory"] = client.info("memory")["used_memory"]
    return out


def slowlog(port: int) -> dict:
    entries = redis_client(port).slowlog_get(1024)
    if not entries:
        return {"over_2ms": 0}
    worst = max(entries, key=lambda e: e["duration"])
    command = worst["command"]
    return {"over_2ms": len(entries), "max_ms": round(worst["duration"] / 1000, 2),
            "max_command": command[:60] if isinstance(command, str) else str(command)[:60],
            "total_ms": round(sum(e["duration"] for e in entries) / 1000, 1)}


class Run:
    def __init__(self, *, label: str, processes: int, shards: int, sockets: int, rooms: int, rate: float,
                 duration: float, idle: float, concurrency: int):
        self.__dict__.update(label=label, processes=processes, shards=shards, sockets=sockets, rooms=rooms, rate=rate,
                             duration=duration, idle=idle, concurrency=concurrency)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"chat-scale-{label}-"))
        self.database = f"chat_scale_{secrets.token_hex(5)}"
        self.redis: list[tuple[subprocess.Popen, int]] = []
        self.servers: list[tuple[subprocess.Popen, int]] = []

    def env(self) -> dict:
        urls = [f"redis://127.0.0.1:{port}/0" for _, port in self.redis]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "DATABASE_URL", "CHAT_"))}
        env.update(DJANGO_SECRET_KEY="scale-" + secrets.token_hex(16), DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/"
                   f"{self.database}", REDIS_URL=urls[0], REDIS_URLS=",".join(urls), CHAT_VAR_DIR=str(self.workdir),
                   PYTHONPATH=str(BACKEND), PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
        return env

    def snap(self, loadgen: subprocess.Popen) -> dict:
        return {"t": time.time(), "machine": harness.machine_cpu()[0], "loadgen": harness.tree_cpu(loadgen.pid),
                "servers": [harness.tree_cpu(p.pid) for p, _ in self.servers],
                "rss": [harness.tree_rss(p.pid)[0] for p, _ in self.servers],
                "redis": [redis_snapshot(port) for _, port in self.redis],
                "pg": sum(harness.pg_backends_cpu(self.database).values()), "db": pg_figures(self.database)}

    def go(self) -> dict:
        try:
            return self._go()
        finally:
            self.stop()

    def _go(self) -> dict:
        self.redis = [start_redis(self.workdir) for _ in range(self.shards)]
        pg(f'CREATE DATABASE "{self.database}"')
        env = self.env()
        subprocess.run([str(PYTHON), "manage.py", "migrate", "--noinput"], cwd=BACKEND, env=env, check=True,
                       capture_output=True, timeout=300)
        sessions = self.workdir / "sessions.json"
        t0 = time.time()
        subprocess.run([str(PYTHON), str(HERE / "scale.py"), "seed", "--users", str(self.sockets), "--out",
                        str(sessions)], env=env, check=True, timeout=600)
        seeded = time.time() - t0
        for i in range(self.processes):
            port = free_port()
            log = open(self.workdir / f"daphne-{i}.log", "ab")
            proc = subprocess.Popen([str(PYTHON), "-m", "chat.serve", "--bind", "127.0.0.1", "--port", str(port)],
                                    cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.servers.append((proc, port))
        deadline = time.time() + 90
        while not all(healthy(port) for _, port in self.servers):
            if time.time() > deadline or any(p.poll() is not None for p, _ in self.servers):
                raise RuntimeError(f"servers did not start; logs in {self.workdir}")
            time.sleep(0.3)
        given = json.loads(sessions.read_text())
        given["servers"] = [f"ws://127.0.0.1:{port}" for _, port in self.servers]
        sessions.write_text(json.dumps(given))
        time.sleep(1)
        rss0 = [harness.tree_rss(p.pid)[0] for p, _ in self.servers]
        # The processes' own background (timers, the hub's loops) with no socket, to
        # tell apart from what each socket adds while idle.
        bare0 = [harness.tree_cpu(p.pid) for p, _ in self.servers]
        time.sleep(10)
        bare_util = [round((harness.tree_cpu(p.pid) - a) / 10, 4) for (p, _), a in zip(self.servers, bare0)]
        cmd = ["node", str(LOADGEN), "--url", given["servers"][0], "--adapter", f"chat:sessions={sessions}",
               "--connections", str(self.sockets), "--rooms", str(self.rooms), "--rate", str(self.rate),
               "--duration", str(self.duration), "--warmup", "3", "--idle", str(self.idle), "--drain", "15",
               "--concurrency", str(self.concurrency), "--connect-timeout", "120", "--barrier-timeout", "120",
               "--label", self.label]
        loadgen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        marks, result, keys, idle_slow = {"begin": self.snap(loadgen)}, None, None, None
        for line in loadgen.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            name = event.get("event")
            if name in ("connected", "idle_start", "idle_end", "measure_start", "measure_end"):
                marks[name] = self.snap(loadgen)
                print(f"[{self.label}] {name} {json.dumps({k: v for k, v in event.items() if k != 'event'})}",
                      file=sys.stderr, flush=True)
            if name == "idle_start":
                for _, port in self.redis:
                    redis_client(port).slowlog_reset()
            if name == "idle_end":
                keys = [key_figures(port) for _, port in self.redis]
                idle_slow = [slowlog(port) for _, port in self.redis]
                for _, port in self.redis:
                    redis_client(port).slowlog_reset()
            if name == "result":
                result = event
        loadgen.wait(60)
        if result is None:
            raise RuntimeError(f"no result from the load generator: {loadgen.stderr.read()[-3000:]}")
        run_slow = [slowlog(port) for _, port in self.redis]
        out = self.figures(marks, result, keys, rss0, seeded, idle_slow, run_slow)
        out["bare_server_util"] = bare_util
        return out

    def figures(self, marks, result, keys, rss0, seeded, idle_slow, run_slow) -> dict:
        def window(a: dict, b: dict) -> dict:
            wall = b["t"] - a["t"]
            out = {"wall_s": round(wall, 2), "machine_util": round((b["machine"] - a["machine"]) / wall, 3),
                   "loadgen_util": round((b["loadgen"] - a["loadgen"]) / wall, 3),
                   "postgres_util": round((b["pg"] - a["pg"]) / wall, 3),
            # WAL of the whole cluster: other databases' writes count too (a shared machine).
            "wal_kb_per_s": round((b["db"]["wal"] - a["db"]["wal"]) / wall / 1024, 1),
            "messages_stored": b["db"]["messages"] - a["db"]["messages"],
                   "server_util": [round((y - x) / wall, 3) for x, y in zip(a["servers"], b["servers"])],
                   "redis": []}
            for ra, rb in zip(a["redis"], b["redis"]):
                top = sorted(((name, rb["cmd"][name]["calls"] - ra["cmd"].get(name, {"calls": 0})["calls"],
                               rb["cmd"][name]["usec"] - ra["cmd"].get(name, {"usec": 0})["usec"]) for name in rb["cmd"]),
                             key=lambda item: -item[2])[:6]
                out["redis"].append({"cpu_util": round((rb["cpu"] - ra["cpu"]) / wall, 3),
                                     "ops_per_s": round((rb["commands"] - ra["commands"]) / wall),
                                     "net_out_kb_per_s": round((rb["net_out"] - ra["net_out"]) / wall / 1024),
                                     "top": [{"cmd": n, "per_s": round(c / wall, 1), "usec_per_s": round(u / wall)}
                                             for n, c, u in top if c]})
            return out

        idle_rss = marks["idle_end"]["rss"] if "idle_end" in marks else marks["measure_start"]["rss"]
        per_process = self.sockets / self.processes
        lat = result["latency_ms"]
        run = window(marks["measure_start"], marks["measure_end"])
        deliveries = result["marks"]["deliveries"]
        return {
            "label": self.label, "processes": self.processes, "redis_shards": self.shards, "sockets": self.sockets,
            "rooms": self.rooms, "rate": self.rate, "duration": self.duration, "seed_s": round(seeded, 1),
            "joined": result["joined"], "connect_errors": result["connect_errors"], "lost": result["lost"],
            "duplicated": result["duplicated"], "closed_during_run": result["closed_during_run"],
            "connect_s": round(result["connect"]["all_joined_s"], 1), "errors": result["errors"],
            "connect_window": window(marks["begin"], marks["connected"]),
            "idle": window(marks["idle_start"], marks["idle_end"]) if "idle_end" in marks else None,
            "run": run,
            "deliveries_per_s": round(result["deliveries_per_s"]),
            "offered_deliveries_per_s": round(result["offered_deliveries_per_s"]),
            "server_us_per_delivery": round(sum(run["server_util"]) * run["wall_s"] / max(1, deliveries) * 1e6, 1),
            "latency_ms": {"p50": lat.get("p50"), "p99": lat.get("p99"), "max": lat.get("max")},
            "rss_mb": [round(r / 2**20, 1) for r in idle_rss],
            "kib_per_socket": [round((b - a) / per_process / 1024, 1) for a, b in zip(rss0, idle_rss)],
            "redis_keys": keys, "slowlog_idle": idle_slow, "slowlog_run": run_slow,
            "presence_frames": (result.get("adapter_stats") or {}).get("presence"),
            "message_table": marks["measure_end"]["db"],
        }

    def stop(self) -> None:
        for proc, _ in self.servers:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in self.servers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for proc, _ in self.redis:
            proc.terminate()
            proc.wait(10)
        try:
            pg(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        except Exception as error:  # noqa: BLE001 - teardown goes on
            print(f"could not drop {self.database}: {error}", file=sys.stderr)
        if not os.environ.get("SCALE_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def summary(r: dict) -> str:
    run, idle = r["run"], r["idle"] or {}
    lines = [f"## {r['label']}: {r['processes']} processes, {r['redis_shards']} Redis, {r['joined']}/{r['sockets']} "
             f"sockets in {r['rooms']} rooms, {r['rate']} msg/s",
             f"connect {r['connect_s']} s; lost {r['lost']}, duplicated {r['duplicated']}, "
             f"closed {r['closed_during_run']}, connect errors {r['connect_errors']}; first errors {r['errors'][:3]}",
             f"deliveries/s {r['deliveries_per_s']}; latency p50 {r['latency_ms']['p50']} ms, p99 "
             f"{r['latency_ms']['p99']} ms; server µs/delivery {r['server_us_per_delivery']}",
             f"server CPU (run) {run['server_util']}; idle {idle.get('server_util')}; no sockets "
             f"{r.get('bare_server_util')}; RSS MB {r['rss_mb']}; "
             f"KiB/socket {r['kib_per_socket']}",
             f"PostgreSQL CPU (run) {run['postgres_util']}, WAL {run['wal_kb_per_s']} KiB/s, "
             f"{run['messages_stored']} messages stored; machine {run['machine_util']}; loadgen {run['loadgen_util']}",
             f"message table {r['message_table']}"]
    for i, redis in enumerate(run["redis"]):
        idle_redis = idle.get("redis", [{}] * (i + 1))[i]
        lines.append(f"redis {i}: run cpu {redis['cpu_util']}, {redis['ops_per_s']} ops/s, out {redis['net_out_kb_per_s']}"
                     f" KiB/s; idle cpu {idle_redis.get('cpu_util')}, {idle_redis.get('ops_per_s')} ops/s; "
                     f"keys {r['redis_keys'][i] if r['redis_keys'] else None}")
        lines.append(f"   run top {redis['top'][:4]}")
        lines.append(f"   idle top {idle_redis.get('top', [])[:4]}")
        lines.append(f"   slow (idle) {r['slowlog_idle'][i]}; slow (run) {r['slowlog_run'][i]}")
    return "\n".join(lines)


# ---- the plan (docs/deploy.md): 100,000 sockets, 5,000 rooms of 20, 2,000 msg/s ---------

PLAN = {"sockets": 100_000, "rooms": 5_000, "members": 20, "messages": 2_000}


def span(nodes: int, members: int) -> float:
    """Expected number of nodes a room of `members` sockets, placed at random, touches."""
    return nodes * (1 - (1 - 1 / nodes) ** members)


def per_window(r: dict, name: str) -> dict:
    """Per-message and per-socket costs from one configuration's windows."""
    run, idle = r["run"], r["idle"]
    messages = r["rate"] * r["duration"]  # the window's sends (the drain adds none)
    busy = sum(run["server_util"]) * run["wall_s"]
    background = sum(idle["server_util"]) * run["wall_s"]
    redis_run = sum(x["cpu_util"] for x in run["redis"]) * run["wall_s"]
    redis_idle = sum(x["cpu_util"] for x in idle["redis"]) * run["wall_s"]
    return {
        f"{name}_server_ms_per_message": (busy - background) / messages * 1000,
        f"{name}_server_idle_us_per_socket_s": (sum(idle["server_util"]) - sum(r.get("bare_server_util", [0])))
        / r["sockets"] * 1e6,
        f"{name}_redis_us_per_message": (redis_run - redis_idle) / messages * 1e6,
        f"{name}_redis_idle_us_per_socket_s": sum(x["cpu_util"] for x in idle["redis"]) / r["sockets"] * 1e6,
        f"{name}_postgres_ms_per_message": run["postgres_util"] * run["wall_s"] / messages * 1000,
        f"{name}_connect_ms_per_socket": sum(r["connect_window"]["server_util"]) * r["connect_window"]["wall_s"]
        / r["sockets"] * 1000,
        f"{name}_kib_per_socket": sum(r["kib_per_socket"]) / len(r["kib_per_socket"]),
    }


def plan(runs: list[dict], utilisation: float = 0.5) -> dict:
    """Nodes, Redis and PostgreSQL for PLAN, from the measured costs: a message
    costs its sender's node c1 (the one-node run: every member local) and each
    further node its room touches r, from the sharded run where every room
    touches all its processes: r = (c_sharded - c1) / (processes - 1)."""
    sharded, one = runs[0], runs[1]
    m = {**per_window(sharded, "sharded"), **per_window(one, "one")}
    c1 = m["one_server_ms_per_message"]
    r = max(0.0, (m["sharded_server_ms_per_message"] - c1) / (sharded["processes"] - 1))
    idle = m["sharded_server_idle_us_per_socket_s"] / 1e6  # cores per socket
    nodes = 4
    for _ in range(50):  # span grows with the nodes; settle the fixed point
        cores = PLAN["messages"] * (c1 + r * (span(nodes, PLAN["members"]) - 1)) / 1000 + PLAN["sockets"] * idle
        nodes = max(4, int(-(-cores // utilisation)))
    sockets_per_node = PLAN["sockets"] / nodes
    redis_cores = (PLAN["messages"] * m["sharded_redis_us_per_message"] / 1e6 * span(nodes, PLAN["members"])
                   / sharded["processes"] + PLAN["sockets"] * m["sharded_redis_idle_us_per_socket_s"] / 1e6)
    keys = sharded["redis_keys"]
    presence_bytes = sum(k["presence_bytes"] for k in keys) / sharded["sockets"]
    registry_bytes = sum(k["sockets_bytes"] for k in keys) / sharded["sockets"]
    table = sharded["message_table"]
    return {**{k: round(v, 3) for k, v in m.items()},
            "receive_ms_per_extra_node": round(r, 3), "nodes": nodes, "span": round(span(nodes, PLAN["members"]), 1),
            "server_cores": round(cores, 2), "sockets_per_node": round(sockets_per_node),
            "node_rss_mib": round(104 + sockets_per_node * m["sharded_kib_per_socket"] / 1024),
            "redis_cores": round(redis_cores, 2),
            "presence_mib": round(PLAN["sockets"] * presence_bytes / 2**20, 1),
            "registry_mib": round(PLAN["sockets"] * registry_bytes / 2**20, 1),
            "postgres_cores": round(PLAN["messages"] * m["sharded_postgres_ms_per_message"] / 1000, 2),
            "message_bytes": round(table["message_bytes"] / max(1, table["messages"])),
            "reconnect_cpu_s_per_node_lost": round(sockets_per_node * m["sharded_connect_ms_per_socket"] / 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="run", choices=["run", "seed", "plan"])
    parser.add_argument("results", nargs="?", help="plan: a results/scale-*.json to derive the plan from")
    parser.add_argument("--users", type=int)
    parser.add_argument("--out")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--rate", type=float, default=200, help="messages a second (the plan's per-socket rate)")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--idle", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight (S4's)")
    parser.add_argument("--compare-sockets", type=int, default=2_500, help="the 1-process, 1-Redis run; 0: none")
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.users, args.out)
        return
    if args.command == "plan":
        print(json.dumps(plan(json.loads(Path(args.results).read_text())["runs"]), indent=1))
        return
    ratio = args.compare_sockets / args.sockets
    configs = [dict(label="sharded", processes=args.processes, shards=args.shards, sockets=args.sockets,
                    rooms=args.rooms, rate=args.rate)]
    if args.compare_sockets:
        configs.append(dict(label="one-node", processes=1, shards=1, sockets=args.compare_sockets,
                            rooms=max(1, round(args.rooms * ratio)), rate=round(args.rate * ratio, 2)))
    results = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_before": os.getloadavg(),
               "runs": []}
    for config in configs:
        run = Run(duration=args.duration, idle=args.idle, concurrency=args.concurrency, **config).go()
        results["runs"].append(run)
        print(summary(run), flush=True)
    results["load_after"] = os.getloadavg()
    if len(results["runs"]) == 2:
        results["plan"] = plan(results["runs"])
        print(json.dumps(results["plan"], indent=1), flush=True)
    out = HERE / "results" / f"scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwritten to {out}", flush=True)


if __name__ == "__main__":
    main()
