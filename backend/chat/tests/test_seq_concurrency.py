"""Several OS processes write one room at once: seq stays 1..N, each client_id stored once.

Each case gets a fresh, migrated database (a new PostgreSQL database, or a
SQLite file, copied from tests/databases.py's template), and real worker
processes that call `message_create` in a tight loop after a common start
signal. Two workers act as the same user and send the same client_ids in the
same order, so they race on
the (author, client_id) constraint; a third user reuses those client_ids, which
must be stored as separate messages.
"""

import json
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests import databases

BACKEND_DIR = Path(__file__).resolve().parents[2]
ROOM = "race"
SENDS_PER_WORKER = 60
SHARED_IDS = [f"shared-{k}" for k in range(SENDS_PER_WORKER // 3)]

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from chat.services import room_join
for name in ("alice", "bob", "carol"):
    room_join(user=get_user_model().objects.create_user(username=name), name="race")
"""

WORKER = """
import json, os, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from chat.services import message_create
username, go_file, client_ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
user = get_user_model().objects.get(username=username)
print("ready", flush=True)
while not os.path.exists(go_file):
    time.sleep(0.005)
results = []
for client_id in client_ids:
    message, created = message_create(user=user, room="race", body=f"{username} {client_id}", client_id=client_id)
    results.append([client_id, message["seq"], message["id"], created])
print(json.dumps(results), flush=True)
"""

CHECK = """
import json
import django
django.setup()
from chat.models import Membership, Message, Room
rows = list(Message.objects.filter(room__name="race").order_by("seq").values_list("seq", "author__username", "client_id"))
markers = dict(Membership.objects.filter(room__name="race").values_list("user__username", "last_read_seq"))
print(json.dumps({"last_seq": Room.objects.get(name="race").last_seq, "rows": rows, "markers": markers}))
"""


# ---- databases ----------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield databases.create_sqlite(tmp_path / "race.sqlite3")
        return
    name = f"chat_seq_{uuid.uuid4().hex[:12]}"
    yield databases.create_postgres(name)
    databases.drop_postgres(name)


@pytest.fixture
def django_env(database_url, tmp_path):
    env = databases.django_env(tmp_path, secret="seq-concurrency", DATABASE_URL=database_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120)

    made = run("-c", SETUP)
    assert made.returncode == 0, made.stderr
    return env, run


# ---- the race -------------------------------------------------------------------


def worker_plan() -> list[tuple[str, list[str]]]:
    """(username, client_ids) per process; every third send of alice's two
    workers and of bob's uses a shared client_id."""

    def ids(prefix: str) -> list[str]:
        own = iter(f"{prefix}-{k}" for k in range(SENDS_PER_WORKER))
        shared = iter(SHARED_IDS)
        return [next(shared) if k % 3 == 0 else next(own) for k in range(SENDS_PER_WORKER)]

    return [("alice", ids("alice-p0")), ("alice", ids("alice-p1")), ("bob", ids("bob")), ("carol", ids("carol"))]


def run_at_once(worker_args: list[list[str]], *, env: dict, go_file, timeout: float = 120) -> list[str]:
    """Starts one `python -c` process per argument list (each prints `ready`,
    waits for `go_file`, then does its work and prints its result), lets them
    all go at once, and returns their standard outputs; a failed one fails the test."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", *args], cwd=BACKEND_DIR, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for args in worker_args
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        go_file.touch()
        outputs = [worker.communicate(timeout=timeout) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr
    return [stdout for stdout, _ in outputs]


def test_concurrent_writers_get_gapless_unique_seqs(django_env, tmp_path):
    env, run = django_env
    go_file = tmp_path / "go"
    plan = worker_plan()
    stdouts = run_at_once(
        [[WORKER, username, str(go_file), json.dumps(client_ids)] for username, client_ids in plan], env=env, go_file=go_file
    )
    results = [json.loads(stdout) for stdout in stdouts]

    checked = run("-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    state = json.loads(checked.stdout)

    expected = {(username, client_id) for username, client_ids in plan for client_id in client_ids}
    stored = [(author, client_id) for _, author, client_id in state["rows"]]
    total = len(expected)
    assert total == 2 * SENDS_PER_WORKER + 2 * (SENDS_PER_WORKER - len(SHARED_IDS)) + len(SHARED_IDS)
    assert [seq for seq, _, _ in state["rows"]] == list(range(1, total + 1))
    assert state["last_seq"] == total
    assert Counter(stored) == Counter(expected)  # each (author, client_id) exactly once

    # Alice's two workers agree on every shared client_id, and exactly one stored it.
    alice_answers: dict[str, list[tuple[int, int, bool]]] = {}
    for (username, _), worker_results in zip(plan, results):
        if username == "alice":
            for client_id, seq, message_id, created in worker_results:
                alice_answers.setdefault(client_id, []).append((seq, message_id, created))
    for client_id in SHARED_IDS:
        (first, second) = alice_answers[client_id]
        assert first[:2] == second[:2], client_id
        assert sorted([first[2], second[2]]) == [False, True], client_id
    # Every reply names the seq the store holds for that (author, client_id).
    seq_of = {(author, client_id): seq for seq, author, client_id in state["rows"]}
    for (username, _), worker_results in zip(plan, results):
        for client_id, seq, _, _ in worker_results:
            assert seq_of[(username, client_id)] == seq
    # Each sender's read marker stands at its newest message, never behind it.
    newest = {}
    for seq, author, _ in state["rows"]:
        newest[author] = seq
    assert state["markers"] == newest
