"""chat/store.py against a real database, in a process of its own.

On PostgreSQL the store runs the send's and the join's single statements
through psycopg's async pool; on SQLite it runs the services functions. Either
way its answers must be the ORM's: the same pages as the selectors, the same
membership and marker, the same refusals.
"""

import json

import pytest

from chat.tests.test_seq_concurrency import database_url, django_env  # noqa: F401 (fixtures)

SCRIPT = """
import asyncio, json
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import selectors, services, store
from chat.models import Membership

users = get_user_model().objects
alice, bob = users.get(username="alice"), users.get(username="bob")
dave = users.create_user(username="dave")
for k in range(120):
    services.message_create(user=alice if k % 2 else bob, room="race", body=f"m{k}", client_id=f"s{k}")
services.room_join(user=bob, name="quiet")

async def answers():
    got = {}
    for key, room, since in [("latest", "race", None), ("since", "race", 30), ("since_end", "race", 120),
                             ("empty", "quiet", None), ("empty_since", "quiet", 0)]:
        got[key] = await store.room_enter(user=dave, name=room, since=since, create=False)
    try:
        await store.room_enter(user=dave, name="nowhere", since=None, create=False)
    except services.RoomNotFound:
        got["missing"] = "RoomNotFound"
    rate = services.SendRate(limit=2, window=60)
    got["sent"] = await store.message_create(user=dave, room="race", body="hi", client_id="d1", rate=rate)
    got["resent"] = await store.message_create(user=dave, room="race", body="hi", client_id="d1", rate=rate)
    got["second"] = await store.message_create(user=dave, room="race", body="two", client_id="d2", rate=rate)
    try:
        await store.message_create(user=dave, room="race", body="three", client_id="d3", rate=rate)
    except services.SendLimited:
        got["limited"] = "SendLimited"
    try:
        await store.message_create(user=dave, room="nowhere", body="x", client_id="d4", rate=None)
    except services.RoomNotFound:
        got["send_missing"] = "RoomNotFound"
    await store.close_pool()
    return got

# The pages as the ORM reads them, before the store's sends add to the room.
orm = {
    "latest": selectors.messages_latest(room="race"),
    "since": selectors.messages_since(room="race", since=30),
    "since_end": selectors.messages_since(room="race", since=120),
    "empty": selectors.messages_latest(room="quiet"),
    "empty_since": selectors.messages_since(room="quiet", since=0),
}
got = asyncio.run(answers())
orm |= {
    "stored": [selectors.message_by_client_id(user=dave, client_id=c) for c in ("d1", "d2", "d3", "d4")],
    "dave_in": sorted(Membership.objects.filter(user=dave).values_list("room__name", "last_read_seq")),
}
print(json.dumps({"got": got, "orm": orm}))
"""


def test_the_store_answers_as_the_orm_does(django_env):  # noqa: F811
    _, run = django_env
    done = run("-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    got, orm = result["got"], result["orm"]

    for key in ("latest", "since", "since_end", "empty", "empty_since"):
        assert got[key] == list(orm[key]), key
    assert [len(got["latest"][0]), got["latest"][1]] == [50, True]
    assert [got["latest"][0][0]["seq"], got["latest"][0][-1]["seq"]] == [71, 120]
    assert [len(got["since"][0]), got["since"][1]] == [90, False]
    assert got["missing"] == "RoomNotFound" and got["send_missing"] == "RoomNotFound"

    stored_d1, stored_d2, stored_d3, stored_d4 = orm["stored"]
    assert got["sent"] == [stored_d1, True] and stored_d1["seq"] == 121
    assert got["resent"] == [stored_d1, False]
    assert got["second"] == [stored_d2, True] and stored_d2["seq"] == 122
    assert got["limited"] == "SendLimited" and stored_d3 is None and stored_d4 is None
    # Entering made dave a member of both rooms; his sends moved his marker.
    assert orm["dave_in"] == [["quiet", 0], ["race", 122]]


SESSIONS = """
import asyncio, json
from datetime import timedelta
from types import SimpleNamespace
import django
django.setup()
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from chat import session as chat_session, store

users = get_user_model().objects

def logged_in(username):
    user = users.create_user(username=username, password="pw-" + username)
    session = SessionStore()
    session[auth.SESSION_KEY] = str(user.pk)
    session[auth.BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return user, session.session_key

keys = {}
for name in ("plain", "expired", "inactive", "repassworded", "tampered", "other_backend"):
    keys[name] = logged_in(name)[1]
Session.objects.filter(session_key=keys["expired"]).update(expire_date=timezone.now() - timedelta(seconds=1))
users.filter(username="inactive").update(is_active=False)
changed = users.get(username="repassworded"); changed.set_password("new"); changed.save()
Session.objects.filter(session_key=keys["tampered"]).update(session_data="not-a-signed-session")
other = SessionStore(keys["other_backend"]); other[auth.BACKEND_SESSION_KEY] = "some.other.Backend"; other.save()
keys["unknown"] = "x" * 32
keys["short"] = "abc"

def django_says(key):
    user = auth.get_user(SimpleNamespace(session=SessionStore(key)))
    return user.get_username() if user.is_authenticated else None

async def loop_says():
    got = {}
    for name, key in keys.items():
        user = await chat_session._session_user_on_the_loop(SessionStore(key))
        got[name] = user.get_username() if user.is_authenticated else None
    await store.close_pool()
    return got

got = asyncio.run(loop_says())
flushed = not Session.objects.filter(session_key=keys["repassworded"]).exists()
print(json.dumps({"got": got, "django": {name: django_says(key) for name, key in keys.items()}, "flushed": flushed}))
"""


# The event-loop path is PostgreSQL's; SQLite keeps Django's get_user.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_handshake_reads_the_session_user_as_django_does(django_env):  # noqa: F811
    _, run = django_env
    done = run("-c", SESSIONS)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["got"] == result["django"]
    assert result["got"] == {"plain": "plain", "expired": None, "inactive": None, "repassworded": None,
                             "tampered": None, "other_backend": None, "unknown": None, "short": None}
    # A hash that no longer matches is Django's to answer: it flushes the session.
    assert result["flushed"]
