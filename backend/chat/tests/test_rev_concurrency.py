"""Several OS processes change one room at once: revs stay 1..N, gapless and unique.

Sends, edits, deletes and reactions race on a fresh database (PostgreSQL, and
SQLite for the same code path's other half), each worker in its own process
after a common start signal. Every change that changed something took exactly
one rev; no-ops (reactions another worker added first, repeated edits) took
none; and each message's rev is its last change's.
"""

import json

from chat.tests.test_seq_concurrency import database_url, django_env, run_at_once  # noqa: F401 (fixtures)

SEEDS = 10
STEPS = 40

WORKER = """
import json, os, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import revisions, services
username, go_file, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
user = get_user_model().objects.get(username=username)
print("ready", flush=True)
while not os.path.exists(go_file):
    time.sleep(0.005)
changes = []
for step in range(%(steps)d):
    kind = (step + k) %% 4
    seq = 1 + (step * 7 + k) %% %(seeds)d
    if kind == 0:
        # Replies lock the message replied to (its foreign key) while holding the room row.
        try:
            message, changed = services.message_create(
                user=user, room="race", body=f"{username} {step} @alice", client_id=f"{username}-{step}",
                reply_to=seq,
            )
        except services.MessageNotFound:
            continue
    elif kind == 1:
        # Everybody adds and removes the same few emoji on the same messages: many no-ops.
        try:
            message, changed = revisions.message_react(user=user, room="race", seq=seq, emoji=f"e{step %% 3}",
                                                       active=step %% 5 != 0)
        except services.MessageNotFound:  # deleted meanwhile
            continue
    elif kind == 2:
        try:
            message, changed = revisions.message_edit(user=user, room="race", seq=seq, body=f"{username} {step %% 2}")
        except (revisions.MessageForbidden, services.MessageNotFound):
            continue
    else:
        try:
            message, changed = revisions.message_delete(user=user, room="race", seq=seq) if step %% 13 == 3 else (None, False)
        except revisions.MessageForbidden:
            continue
    if changed:
        changes.append(message["rev"])
print(json.dumps(changes), flush=True)
""" % {"steps": STEPS, "seeds": SEEDS}

SEED = """
import django
django.setup()
from django.contrib.auth import get_user_model
from chat.services import message_create
users = get_user_model().objects
for k in range(%d):
    author = users.get(username=("alice", "bob", "carol")[k %% 3])
    message_create(user=author, room="race", body=f"seed {k}", client_id=f"seed-{k}")
""" % SEEDS

CHECK = """
import json
import django
django.setup()
from chat.models import Message, Room
print(json.dumps({"last_rev": Room.objects.get(name="race").last_rev,
                  "revs": list(Message.objects.filter(room__name="race").values_list("rev", flat=True))}))
"""


def test_concurrent_changes_take_gapless_unique_revs(django_env, tmp_path):  # noqa: F811
    env, run = django_env
    seeded = run("-c", SEED)
    assert seeded.returncode == 0, seeded.stderr
    go_file = tmp_path / "go"
    stdouts = run_at_once(
        [[WORKER, username, str(go_file), str(k)] for k, username in enumerate(["alice", "alice", "bob", "carol"])],
        env=env, go_file=go_file, timeout=180,
    )
    taken = [rev for stdout in stdouts for rev in json.loads(stdout)]
    checked = run("-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    state = json.loads(checked.stdout)

    # Every change that changed something took one rev of its own, after the seeds' 1..SEEDS.
    assert sorted(taken) == list(range(SEEDS + 1, SEEDS + len(taken) + 1))
    assert state["last_rev"] == SEEDS + len(taken)
    # Each message holds a distinct rev, and the room's newest change is one of them.
    assert len(set(state["revs"])) == len(state["revs"]) and max(state["revs"]) == state["last_rev"]
    assert len(taken) > STEPS  # the race did change things, not only no-ops
