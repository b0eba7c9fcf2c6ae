"""Several OS processes open the same direct conversations at the same moment:
each set of users gets one room, made by exactly one of them. And the event
loop's single statements (chat/store.py) follow the same access rule as the ORM.

Fresh database per case (PostgreSQL, and SQLite), as in test_seq_concurrency.
"""

import json

import pytest

from chat.tests.test_seq_concurrency import database_url, django_env, run_at_once  # noqa: F401 (fixtures)

SETS = 12  # dm rooms opened at once, each by every worker
WORKERS = 4

MAKE_USERS = """
import django
django.setup()
from django.contrib.auth import get_user_model
for k in range(10):
    get_user_model().objects.create_user(username=f"p{k}")
"""

# Worker w opens, for each set, the dm of that set's first user and the others,
# as the set's w-th member (so the "sender" differs between workers).
WORKER = """
import json, os, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from chat.services import dm_create, dm_members
worker, go_file, sets = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
users = {u.username: u for u in get_user_model().objects.all()}
print("ready", flush=True)
while not os.path.exists(go_file):
    time.sleep(0.002)
made = []
for names in sets:
    sender = names[worker % len(names)]
    name, member_ids, exists = dm_members(user=users[sender], usernames=[n for n in names if n != sender])
    created = False if exists else dm_create(name=name, member_ids=member_ids)
    made.append([name, created])
print(json.dumps(made), flush=True)
"""

CHECK = """
import json
import django
django.setup()
from chat.models import Membership, Room
rooms = list(Room.objects.filter(kind="dm").values_list("name", flat=True))
members = {name: sorted(Membership.objects.filter(room__name=name).values_list("user__username", flat=True))
           for name in rooms}
print(json.dumps({"rooms": rooms, "members": members}))
"""


def dm_sets() -> list[list[str]]:
    """SETS different groups of 2 to 8 of the ten users."""
    return [[f"p{(start + k) % 10}" for k in range(2 + start % 7)] for start in range(SETS)]


def test_concurrent_dm_openings_make_one_room_per_set(django_env, tmp_path):
    env, run = django_env
    made = run("-c", MAKE_USERS)
    assert made.returncode == 0, made.stderr
    go_file = tmp_path / "go-dm"
    sets = dm_sets()
    stdouts = run_at_once([[WORKER, str(w), str(go_file), json.dumps(sets)] for w in range(WORKERS)], env=env, go_file=go_file)
    results = [json.loads(stdout) for stdout in stdouts]

    checked = run("-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    state = json.loads(checked.stdout)
    assert len(state["rooms"]) == SETS == len(set(state["rooms"]))
    for index, names in enumerate(sets):
        answers = [result[index] for result in results]
        assert len({name for name, _ in answers}) == 1  # every worker found the same room
        assert sum(created for _, created in answers) == 1  # and exactly one made it
        assert state["members"][answers[0][0]] == sorted(names)


STORE_SCRIPT = """
import asyncio, json
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import pgpool, services, store
from chat.models import Membership

users = get_user_model().objects
owner, outsider = users.create_user(username="owner"), users.create_user(username="outsider")
staff = users.create_user(username="staff", is_staff=True)
services.room_create(user=owner, name="secret", kind="private")
services.message_create(user=owner, room="secret", body="hidden", client_id="o1")
name, ids, _ = services.dm_members(user=owner, usernames=["staff"])
services.dm_create(name=name, member_ids=ids)

async def attempt(call):
    try:
        result = await call
    except services.RoomForbidden:
        return "forbidden"
    except services.RoomNotFound:
        return "not_found"
    return [m["body"] for m in result[0]] if isinstance(result[0], list) else result[0]["body"]

async def answers():
    got = {
        "outsider_join": await attempt(store.room_enter(user=outsider, name="secret", since=None)),
        "outsider_send": await attempt(store.message_create(
            user=outsider, room="secret", body="in?", client_id="x1", rate=None)),
        "outsider_dm_join": await attempt(store.room_enter(user=outsider, name=name, since=0)),
        "owner_join": await attempt(store.room_enter(user=owner, name="secret", since=None)),
        "staff_join": await attempt(store.room_enter(user=staff, name="secret", since=0)),
        "staff_send": await attempt(store.message_create(
            user=staff, room="secret", body="staff here", client_id="s1", rate=None)),
        "missing_send": await attempt(store.message_create(
            user=outsider, room="nowhere", body="x", client_id="x2", rate=None)),
    }
    await pgpool.close_pool()
    return got

got = asyncio.run(answers())
got["outsider_member"] = Membership.objects.filter(user=outsider).exists()
got["staff_member"] = Membership.objects.filter(user=staff, room__name="secret").exists()
print(json.dumps(got))
"""


def test_the_stores_statements_follow_the_access_rule(django_env):
    _, run = django_env
    done = run("-c", STORE_SCRIPT)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got == {
        "outsider_join": "forbidden", "outsider_send": "forbidden", "outsider_dm_join": "forbidden",
        "owner_join": ["hidden"], "staff_join": ["hidden"], "staff_send": "staff here",
        "missing_send": "not_found", "outsider_member": False, "staff_member": True,
    }
