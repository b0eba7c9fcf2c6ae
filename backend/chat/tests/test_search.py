"""The search contract (docs/protocol.md, "Search") on PostgreSQL and on SQLite.

One script stores the same messages in a fresh database of each kind (migrated
by `manage.py migrate`, so the tsvector column and the FTS5 triggers are the
migration's), edits and deletes some, and asks chat.search.message_search
the same questions; both databases must give the same answers.
"""

import json
import subprocess
import sys

from chat.tests.test_seq_concurrency import BACKEND_DIR, database_url, django_env  # noqa: F401 (fixtures)

SCRIPT = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import revisions, services
from chat.search import SearchForbidden, message_search
from chat.searchquery import parse_query

users = get_user_model().objects
alice, bob = users.get(username="alice"), users.get(username="bob")
carol = users.get(username="carol")
services.room_create(user=alice, name="secret", kind="private")
services.member_invite(user=alice, room="secret", username="bob")
services.room_join(user=alice, name="general")

def send(user, room, body, client_id):
    return services.message_create(user=user, room=room, body=body, client_id=client_id)[0]

send(alice, "general", "We connected the Servers yesterday", "m1")
send(bob, "general", "Café au lait at the crème brûlée stand", "m2")
send(alice, "secret", "connect the secret server", "m3")
send(bob, "general", "staging server is down", "m4")
send(alice, "general", "the server staging is up", "m5")
gone = send(bob, "general", "CONNECTING again", "m6")
edited = send(alice, "general", "old text about pancakes", "m7")
for k in range(8, 20):
    send(alice, "general", f"filler number {k} connects", f"m{k}")
revisions.message_delete(user=bob, room="general", seq=gone["seq"])
revisions.message_edit(user=alice, room="general", seq=edited["seq"], body="new text about waffles")
ids = {m.client_id: m.pk for m in __import__("chat.models").models.Message.objects.all()}
by_id = {pk: client_id for client_id, pk in ids.items()}

def ask(user, query, room=None, before=None, limit=20):
    try:
        messages, has_more = message_search(
            user=user, terms=parse_query(query), room=room, before=None if before is None else ids[before], limit=limit
        )
    except SearchForbidden:
        return "forbidden"
    assert all(m["id"] == ids[m["client_id"]] for m in messages)
    return [[m["client_id"] for m in messages], has_more]

people = {"alice": alice, "bob": bob, "carol": carol}
cases = json.loads(input())
print(json.dumps([ask(people[who], query, **options) for who, query, options in cases]))
"""

FILLERS = [f"m{k}" for k in range(19, 7, -1)]
CASES = [
    # Every word, whatever its case, accents and ending; newest first.
    (("carol", "connect", {}), [[*FILLERS, "m1"], False]),
    (("carol", "CONNECTED", {}), [[*FILLERS, "m1"], False]),
    (("alice", "connect", {}), [[*FILLERS, "m3", "m1"], False]),
    (("carol", "cafe CREME brulee", {}), [["m2"], False]),
    (("carol", "Café crèmes", {}), [["m2"], False]),
    (("carol", "cafe waffles", {}), [[], False]),
    (("carol", "staging server", {}), [["m5", "m4"], False]),
    # No stop words: `the` is a word like any other on both databases.
    (("carol", "the", {}), [["m5", "m2", "m1"], False]),
    # Phrases.
    (("carol", '"staging server"', {}), [["m4"], False]),
    (("carol", '"server staging" up', {}), [["m5"], False]),
    (("carol", '"staging server', {}), [["m4"], False]),
    # Paging below `before`.
    (("carol", "connect", {"limit": 5}), [FILLERS[:5], True]),
    (("carol", "connect", {"limit": 5, "before": "m15"}), [FILLERS[5:10], True]),
    (("carol", "connect", {"limit": 3, "before": "m9"}), [["m8", "m1"], False]),
    # Operators.
    (("carol", "from:bob", {}), [["m4", "m2"], False]),
    (("carol", "from:Bob server", {}), [["m4"], False]),
    (("carol", "from:@alice in:general server", {}), [["m5", "m1"], False]),
    (("alice", "in:secret", {}), [["m3"], False]),
    (("alice", "server", {"room": "secret"}), [["m3"], False]),
    (("alice", "server in:general", {"room": "secret"}), [[], False]),
    (("carol", "from:nobody", {}), [[], False]),
    # Deleted never, edited by the new text.
    (("carol", "connecting", {}), [[*FILLERS, "m1"], False]),
    (("carol", "again", {}), [[], False]),
    (("carol", "waffles", {}), [["m7"], False]),
    (("carol", "pancakes", {}), [[], False]),
    # Only rooms the user may read: another's private room, or none, is forbidden.
    (("carol", "server", {"room": "secret"}), "forbidden"),
    (("carol", "in:secret server", {}), "forbidden"),
    (("carol", "in:general in:secret", {}), "forbidden"),
    (("carol", "server", {"room": "nowhere"}), "forbidden"),
    (("bob", "secret", {}), [["m3"], False]),
    # Nothing an FTS5 query would read as syntax.
    (("carol", "server* (up) ^ AND", {}), [[], False]),
    (("carol", "server* (up) ^", {}), [["m5"], False]),
]


def test_search_contract(django_env):
    env, _ = django_env
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BACKEND_DIR, env=env, capture_output=True,
        text=True, timeout=120, input=json.dumps([case for case, _ in CASES]),
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.splitlines()[-1])
    for (case, expected), answer in zip(CASES, answers, strict=True):
        assert answer == expected, case
