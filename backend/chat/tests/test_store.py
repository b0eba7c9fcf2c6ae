"""chat/store.py against a real database, in a process of its own.

On PostgreSQL the store runs the send's and the join's single statements
through asyncpg and its own pool; on SQLite it runs the services functions. Either
way its answers must be the ORM's: the same pages as the selectors, the same
membership and marker, the same refusals.
"""

import json

import pytest

from chat.tests.test_seq_concurrency import database_url, django_env  # noqa: F401 (fixtures)


def script_result(run, script: str):
    """What a script run in django_env's process printed last, as JSON."""
    done = run("-c", script)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])

SCRIPT = """
import asyncio, json
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import pgpool, revisions, selectors, services, store
from chat.models import Membership, Room

users = get_user_model().objects
alice, bob = users.get(username="alice"), users.get(username="bob")
dave = users.create_user(username="dave")
for k in range(120):
    services.message_create(
        user=alice if k % 2 else bob, room="race", body=f"m{k} @Bob @carol @nobody", client_id=f"s{k}",
        reply_to=k if k % 7 == 0 and k else None,
    )
services.room_join(user=bob, name="quiet")
services.room_create(user=bob, name="secret", kind="private")
# Changes: each takes a rev; the v2 fields must come out of the join's statement as the ORM shapes them.
for seq in (3, 80, 110):
    revisions.message_react(user=bob, room="race", seq=seq, emoji="+1", active=True)
    revisions.message_react(user=alice, room="race", seq=seq, emoji="🎉", active=True)
    revisions.message_react(user=alice, room="race", seq=seq, emoji="+1", active=True)
revisions.message_edit(user=alice, room="race", seq=100, body="edited @dave")
revisions.message_delete(user=bob, room="race", seq=99)
revisions.message_delete(user=alice, room="race", seq=118)

async def answers():
    got = {}
    for key, room, since in [("latest", "race", None), ("since", "race", 30), ("since_end", "race", 120),
                             ("empty", "quiet", None), ("empty_since", "quiet", 0)]:
        got[key] = await store.room_enter(user=dave, name=room, since=since)
    for key, since_rev in [("rev_all", 0), ("rev_some", 115), ("rev_end", 200)]:
        got[key] = await store.room_enter(user=dave, name="race", since=3, since_rev=since_rev)
    got["rev_quiet"] = await store.room_enter(user=dave, name="quiet", since=None, since_rev=0)
    try:
        await store.room_enter(user=dave, name="nowhere", since=None)
    except services.RoomNotFound:
        got["missing"] = "RoomNotFound"
    # A join's new room: made once, by one statement, which says whether it made it;
    # another's private room is not made again and stays closed, a dm name is not made.
    for key in ("made", "made_again"):
        got[key] = [await store.room_make(name="fresh"), *await store.room_enter(user=dave, name="fresh", since=None)]
    got["secret_made"] = await store.room_make(name="secret")
    try:
        await store.room_enter(user=dave, name="secret", since=None)
    except services.RoomForbidden:
        got["secret"] = "RoomForbidden"
    try:
        await store.room_make(name="dm-made-by-join")
    except services.RoomForbidden:
        got["dm_name"] = "RoomForbidden"
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
    await pgpool.close_pool()
    return got

# The pages as the ORM reads them, before the store's sends add to the room.
rev = selectors.room_rev(room="race")
orm = {
    "latest": [*selectors.messages_latest(room="race"), rev],
    "since": [*selectors.messages_since(room="race", since=30), rev],
    "since_end": [*selectors.messages_since(room="race", since=120), rev],
    "empty": [*selectors.messages_latest(room="quiet"), 0],
    "empty_since": [*selectors.messages_since(room="quiet", since=0), 0],
    "rev_all": selectors.message_changes(room="race", since_rev=0),
    "rev_some": selectors.message_changes(room="race", since_rev=115),
    "rev_end": selectors.message_changes(room="race", since_rev=200),
    "rev_quiet": selectors.message_changes(room="quiet", since_rev=0),
}
got = asyncio.run(answers())
orm |= {
    "stored": [selectors.message_by_client_id(user=dave, client_id=c) for c in ("d1", "d2", "d3", "d4")],
    "dave_in": sorted(Membership.objects.filter(user=dave).values_list("room__name", "last_read_seq")),
    "fresh": list(Room.objects.filter(name="fresh").values("kind", "topic", "owner_id", "last_seq", "last_rev")),
    "not_made": list(Room.objects.filter(name="dm-made-by-join").values_list("name", flat=True)),
    "secret_members": sorted(Membership.objects.filter(room__name="secret").values_list("user__username", flat=True)),
}
print(json.dumps({"got": got, "orm": orm}))
"""


def test_the_store_answers_as_the_orm_does(django_env):  # noqa: F811
    _, run = django_env
    result = script_result(run, SCRIPT)
    got, orm = result["got"], result["orm"]

    for key in ("latest", "since", "since_end", "empty", "empty_since", "rev_all", "rev_some", "rev_end", "rev_quiet"):
        assert got[key] == list(orm[key]), key
    assert [len(got["latest"][0]), got["latest"][1], got["latest"][2]] == [50, True, 120 + 9 + 3]
    # By rev: each message once, at its last change, ascending; the room's rev.
    changed = got["rev_all"][0]
    assert [m["rev"] for m in changed] == sorted(m["rev"] for m in changed) and len(changed) == 120
    assert [m["seq"] for m in got["rev_some"][0]] == [116, 117, 119, 120, 3, 80, 110, 100, 99, 118]
    assert got["rev_end"] == [[], False, 132] and got["rev_quiet"] == [[], False, 0]
    assert got["made"] == [True, [], False, 0] and got["made_again"] == [False, [], False, 0]
    assert got["secret_made"] is False
    assert orm["fresh"] == [{"kind": "public", "topic": "", "owner_id": None, "last_seq": 0, "last_rev": 0}]
    assert got["secret"] == got["dm_name"] == "RoomForbidden"
    assert orm["not_made"] == [] and orm["secret_members"] == ["bob"]
    by_seq = {m["seq"]: m for m in changed}
    alice, bob = by_seq[2]["author"], by_seq[1]["author"]
    assert by_seq[3]["reactions"] == [
        {"emoji": "+1", "users": sorted([alice, bob], key=lambda u: u["id"])},
        {"emoji": "🎉", "users": [alice]},
    ]
    assert by_seq[15]["reply_to"] == {"seq": 14, "author": alice, "excerpt": by_seq[14]["body"]}
    assert by_seq[16]["reply_to"] is None
    assert len(by_seq[1]["mentions"]) == 2 and bob["id"] in by_seq[1]["mentions"]  # bob and carol, not "nobody"
    assert by_seq[100]["mentions"] != by_seq[101]["mentions"] and len(by_seq[100]["mentions"]) == 1
    assert by_seq[100]["edited_at"] is not None and by_seq[100]["body"] == "edited @dave"
    assert by_seq[99]["deleted"] is True and by_seq[99]["body"] == "" and by_seq[99]["reply_to"] is None
    assert [got["latest"][0][0]["seq"], got["latest"][0][-1]["seq"]] == [71, 120]
    assert [len(got["since"][0]), got["since"][1]] == [90, False]
    assert got["missing"] == "RoomNotFound" and got["send_missing"] == "RoomNotFound"

    stored_d1, stored_d2, stored_d3, stored_d4 = orm["stored"]
    assert got["sent"] == [stored_d1, True] and stored_d1["seq"] == 121 and stored_d1["rev"] == 133
    assert got["resent"] == [stored_d1, False]
    assert got["second"] == [stored_d2, True] and stored_d2["seq"] == 122
    assert got["limited"] == "SendLimited" and stored_d3 is None and stored_d4 is None
    # Entering made dave a member of both rooms; his sends moved his marker.
    assert orm["dave_in"] == [["fresh", 0], ["quiet", 0], ["race", 122]]


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
from chat import pgpool, session as chat_session, store

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
keys["unknown"] = "x" * 32
keys["short"] = "abc"

async def loop_says():
    got = {}
    for name, key in keys.items():
        user = await chat_session._session_user_on_the_loop(SessionStore(key))
        got[name] = user.get_username() if user.is_authenticated else None
    await pgpool.close_pool()
    return got

# First while every session is good: this process then reads each with its user in
# one statement, and what changes after must be seen all the same.
first = asyncio.run(loop_says())
Session.objects.filter(session_key=keys["expired"]).update(expire_date=timezone.now() - timedelta(seconds=1))
users.filter(username="inactive").update(is_active=False)
changed = users.get(username="repassworded"); changed.set_password("new"); changed.save()
Session.objects.filter(session_key=keys["tampered"]).update(session_data="not-a-signed-session")
other = SessionStore(keys["other_backend"]); other[auth.BACKEND_SESSION_KEY] = "some.other.Backend"; other.save()

def django_says(key):
    user = auth.get_user(SimpleNamespace(session=SessionStore(key)))
    return user.get_username() if user.is_authenticated else None

remembered = sorted(chat_session._session_users)
got = asyncio.run(loop_says())
flushed = not Session.objects.filter(session_key=keys["repassworded"]).exists()
django = {name: django_says(key) for name, key in keys.items()}

# A storm: eight sockets of one new session at once. The first answered decodes it for all.
_, storm_key = logged_in("storm")
decodes = []
real_decode = SessionStore.decode
def counting_decode(self, data):
    decodes.append(data)
    return real_decode(self, data)
SessionStore.decode = counting_decode

async def storm():
    found = await asyncio.gather(*(chat_session._session_user_on_the_loop(SessionStore(storm_key)) for _ in range(8)))
    await pgpool.close_pool()
    return [user.get_username() if user.is_authenticated else None for user in found]

stormed = asyncio.run(storm())
print(json.dumps({"first": first, "remembered": remembered, "got": got,
                  "django": django, "flushed": flushed,
                  "stormed": stormed, "storm_decodes": len(decodes)}))
"""


# The event-loop path is PostgreSQL's; SQLite keeps Django's get_user.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_handshake_reads_the_session_user_as_django_does(django_env):  # noqa: F811
    _, run = django_env
    result = script_result(run, SESSIONS)

    six = ("plain", "expired", "inactive", "repassworded", "tampered", "other_backend")
    assert result["first"] == {**{name: name for name in six}, "unknown": None, "short": None}
    # All six were plain at first, so the second pass reads each session with its user at once.
    assert len(result["remembered"]) == 6
    assert result["got"] == result["django"]
    assert result["got"] == {"plain": "plain", "expired": None, "inactive": None, "repassworded": None,
                             "tampered": None, "other_backend": None, "unknown": None, "short": None}
    # A hash that no longer matches is Django's to answer: it flushes the session.
    assert result["flushed"]
    assert result["stormed"] == ["storm"] * 8
    assert result["storm_decodes"] == 1


PLAN_SCRIPT = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import connection
from chat.services import SendStatement

alice = get_user_model().objects.get(username="alice")
plans = {}
for body in ("no mention here", "hello @bob"):
    statement = SendStatement(user=alice, room="race", body=body, client_id="plan", rate=None)
    with connection.cursor() as cursor:
        # Only an index path may avoid reading the whole table, whatever its size.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement.sql, statement.params)
        plans[body] = "\\n".join(row[0] for row in cursor.fetchall())
print(plans["no mention here"])
print("=====")
print(plans["hello @bob"])
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_send_finds_mentioned_users_without_reading_the_user_table(django_env):  # noqa: F811
    _, run = django_env
    done = run("-c", PLAN_SCRIPT)
    assert done.returncode == 0, done.stderr
    for plan in done.stdout.split("====="):
        assert "auth_user" in plan, plan
        assert "Seq Scan on auth_user" not in plan, plan


GENERIC_PLAN_SCRIPT = """
import django
django.setup()
import psycopg
from psycopg import sql
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone
from chat import pgpool, session
from chat.services import ROOM_MAKE_SQL, EnterStatement, SendStatement

alice = get_user_model().objects.get(username="alice")
built = {
    "send": SendStatement(user=alice, room="race", body="no mention here", client_id="generic-1", rate=None),
    "send with a mention": SendStatement(user=alice, room="race", body="hello @bob", client_id="generic-2", rate=None),
    "send with a reply": SendStatement(user=alice, room="race", body="re", client_id="generic-3", rate=None, reply_to=1),
    "join": EnterStatement(user=alice, name="race", since=None),
    "join since": EnterStatement(user=alice, name="race", since=0),
    "join since rev": EnterStatement(user=alice, name="race", since=None, since_rev=0),
}
# Each as (its SQL, its parameters), as the pool is handed it.
statements = {what: (statement.sql, statement.params) for what, statement in built.items()}
reads = session._statements()
now = timezone.now()
statements.update({
    "session": (reads.session, ["k" * 32, now]),
    "session and its user": (reads.session_and_user, [alice.pk, "k" * 32, now]),
    "a session's user": (reads.user, [alice.pk]),
    "room made": (ROOM_MAKE_SQL, {"name": "plan-new", "now": now}),
})
params = connections["default"].get_connection_params()
params.pop("cursor_factory")
with psycopg.connect(**params) as conn:
    # The pool's own planner settings, on this test's near-empty tables.
    for name, value in pgpool.PLANNER_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, false)", [name, value])
    conn.commit()
    # Each in a transaction that is rolled back: the sends store nothing.
    for what, (statement, params) in statements.items():
        # Prepared as the pool (chat/pgpool.py) prepares it: the text it sends, $1, $2... in its order.
        text, names = pgpool.numbered(statement)
        values = [params[name] for name in names] if names else params
        conn.execute(sql.SQL("PREPARE generic AS {}").format(sql.SQL(text)))
        literals = sql.SQL(", ").join(sql.Literal(value) for value in values)
        conn.execute(sql.SQL("EXECUTE generic({})").format(literals)).fetchall()
        plan = conn.execute(sql.SQL("EXPLAIN EXECUTE generic({})").format(literals)).fetchall()
        conn.rollback()
        conn.execute("DEALLOCATE generic")
        print("=====", what)
        print("\\n".join(row[0] for row in plan))
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_pools_generic_plans_find_their_rows_by_index(django_env):  # noqa: F811
    # The pool forces generic plans (pgpool.PLANNER_SETTINGS): planned once, without the
    # parameters' values, and kept for the connection's life. Made here on tables of a
    # few rows, where a sequential scan looks cheapest, each must still reach its rows
    # by index alone, or it reads a whole table at every use once the tables grow.
    _, run = django_env
    done = run("-c", GENERIC_PLAN_SCRIPT)
    assert done.returncode == 0, done.stderr
    plans = done.stdout.split("=====")[1:]
    assert len(plans) == 10, done.stdout
    for plan in plans:
        # The generic plan: the values are bound at run time, so the room's name is not in it.
        assert "race" not in plan and "plan-new" not in plan and "Index" in plan, plan
        assert "Seq Scan" not in plan, plan


# ---- the pool -------------------------------------------------------------------


def test_placeholders_are_numbered_as_postgresql_numbers_them():
    from chat import pgpool

    assert pgpool.numbered("SELECT %(b)s, %(a)s, %(b)s || '%%'") == ("SELECT $1, $2, $1 || '%'", ("b", "a"))
    assert pgpool.numbered("SELECT %s WHERE x = %s") == ("SELECT $1 WHERE x = $2", ())
    with pytest.raises(ValueError):
        pgpool.numbered("SELECT %s, %(a)s")


def test_djangos_database_settings_become_asyncpgs_arguments(monkeypatch, settings):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections

    from chat import pgpool

    settings.CHAT_DB_TIMEOUT = 2.5
    params = {
        "dbname": "chat", "user": "u", "password": "p w", "host": "db", "port": 5433, "connect_timeout": 3,
        "sslmode": "require", "sslrootcert": "/ca.pem", "options": "-c search_path=chat -csynchronous_commit=off",
        "application_name": "chat-web", "client_encoding": "UTF8", "cursor_factory": object, "context": object(),
    }
    monkeypatch.setattr(connections["default"], "get_connection_params", lambda: dict(params))
    assert pgpool.connect_kwargs() == {
        "host": "db", "port": 5433, "user": "u", "password": "p w", "database": "chat", "timeout": 3.0,
        "dsn": "postgresql://?sslmode=require&sslrootcert=%2Fca.pem",
        "server_settings": {
            "statement_timeout": "2500ms", "plan_cache_mode": "force_generic_plan", "enable_seqscan": "off",
            "application_name": "chat-web",
            "search_path": "chat", "synchronous_commit": "off",
        },
    }
    # An option asyncpg would not honour is refused at the pool's start, not ignored.
    params["keepalives_idle"] = 30
    with pytest.raises(ImproperlyConfigured, match="keepalives_idle"):
        pgpool.connect_kwargs()


POOL_SCRIPT = """
import asyncio, json
import asyncpg, psycopg
import django
django.setup()
from django.db import connections
from chat import pgpool, store

async def main():
    got = {}
    got["first"] = list(await store.read("SELECT %(a)s::int + %(b)s::int, %(a)s::text", {"a": 1, "b": 2}))
    got["json"] = (await store.read("SELECT json_build_array(1, 'x'), '[2]'::jsonb", []))[:]
    pid = (await store.read("SELECT pg_backend_pid()", []))[0]
    try:
        await store.read("SELECT 1/0", [])
    except asyncpg.PostgresError as error:
        got["refused"] = type(error).__name__
    # A refusal leaves the connection in the pool, still the same backend.
    got["same_after_refusal"] = (await store.read("SELECT pg_backend_pid()", []))[0] == pid
    # The backend goes away (a database restart): one statement fails, the next gets a new connection.
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory")
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        await store.read("SELECT 1", [])
    except Exception as error:
        got["lost"] = not isinstance(error, asyncpg.PostgresError) or "terminat" in str(error)
    got["after"] = (await store.read("SELECT pg_backend_pid()", []))[0] != pid
    # Settings of every pool connection.
    got["settings"] = list(await store.read(
        "SELECT current_setting('statement_timeout'), current_setting('plan_cache_mode'),"
        " current_setting('enable_seqscan')", []
    ))
    await pgpool.close_pool()
    return got

print(json.dumps(asyncio.run(main())))
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_pool_keeps_a_refusing_connection_and_replaces_a_lost_one(django_env):  # noqa: F811
    _, run = django_env
    got = script_result(run, POOL_SCRIPT)
    assert got["first"] == [3, "1"]
    assert got["json"] == [[1, "x"], [2]]
    assert got["refused"] == "DivisionByZeroError" and got["same_after_refusal"] is True
    assert got["lost"] is True and got["after"] is True
    assert got["settings"] == ["5s", "force_generic_plan", "off"]


def test_the_server_refuses_to_start_with_a_database_option_asyncpg_would_drop(tmp_path):
    import subprocess
    import sys

    from tests import databases

    env = databases.django_env(tmp_path, secret="store-test",
                               DATABASE_URL="postgres://postgres@127.0.0.1:5432/chat_unused?keepalives_idle=30")
    done = subprocess.run([sys.executable, "-m", "chat.serve", "--bind", "127.0.0.1", "--port", "0"],
                          cwd=databases.BACKEND_DIR,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "keepalives_idle" in done.stderr, done.stderr[-2000:]
