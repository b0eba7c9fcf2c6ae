"""Usernames: NFKC-normalised, and refused when they look like a taken one
(the same TR39 skeleton, case-folded), through one unique index."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from accounts.models import UsernameSkeleton
from accounts.selectors import username_lookalike
from accounts.services import user_create
from accounts.skeletons import username_skeleton
from tests import databases

PASSWORD = "correct horse battery staple"
TAKEN = "A user with that username already exists."
LOOKALIKE = "This username looks too much like an existing one."
BACKEND_DIR = Path(__file__).resolve().parents[2]


# ---- the skeleton --------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("alice", "\u0430lice"),  # Cyrillic а
        ("alice", "ALICE"),
        ("alice", "Alice"),
        ("alice", "a1ice"),  # digit one
        ("bob", "B0B"),  # digit zero
        ("paypal", "p\u0430yp\u0430l"),
        ("rnoon", "moon"),
        ("full", "\uff46\uff55\uff4c\uff4c"),  # fullwidth
        ("strasse", "Stra\u00dfe"),
        ("kelvin", "\u212aelvin"),  # KELVIN SIGN
        ("omega", "\u03bfmega"),  # Greek omicron
        ("e\u0301", "\u00e9"),  # decomposed and composed é
    ],
)
def test_lookalikes_share_a_skeleton(one, other):
    assert username_skeleton(one) == username_skeleton(other)


@pytest.mark.parametrize(("one", "other"), [("alice", "alise"), ("ail", "all"), ("bob", "bib"), ("ann", "anna")])
def test_different_names_have_different_skeletons(one, other):
    assert username_skeleton(one) != username_skeleton(other)


def test_the_skeleton_is_a_fixed_point():
    for name in ("B0B", "\u0430lice", "Stra\u00dfe", "\u212a", "m", "\u2126mega"):
        skeleton = username_skeleton(name)
        assert username_skeleton(skeleton) == skeleton


# ---- sign-up -------------------------------------------------------------------


def sign_up(username: str):
    client = Client(enforce_csrf_checks=True)
    client.get("/api/session")
    return client.post("/api/users", data=json.dumps({"username": username, "password": PASSWORD}),
                       content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


@pytest.mark.django_db
@pytest.mark.parametrize("lookalike", ["\u0430lice", "a1ice", "\u0430LICE", "al\u0456ce"])
def test_a_lookalike_of_a_taken_name_is_refused_on_the_username_field(lookalike):
    assert sign_up("alice").status_code == 201
    r = sign_up(lookalike)
    assert r.status_code == 400
    assert r.json()["fields"] == {"username": [LOOKALIKE]}
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("same", ["ALICE", "Alice", "\uff41lice"])
def test_the_same_name_in_another_case_or_width_is_taken(same):
    assert sign_up("alice").status_code == 201
    assert sign_up(same).json()["fields"] == {"username": [TAKEN]}


@pytest.mark.django_db
def test_usernames_are_stored_nfkc_normalised():
    r = sign_up("\uff42\uff4f\uff42\u2460")  # fullwidth "bob" and a circled 1
    assert r.status_code == 201
    assert r.json()["user"]["username"] == "bob1"


@pytest.mark.django_db
def test_every_new_user_gets_a_skeleton_however_made():
    made = [user_create(username="Alice", password=PASSWORD),
            get_user_model().objects.create_user(username="b0b"),
            get_user_model().objects.create_superuser(username="root", password=PASSWORD)]
    assert dict(UsernameSkeleton.objects.values_list("user_id", "skeleton")) == {
        made[0].pk: "alice", made[1].pk: "bob", made[2].pk: "root"}
    assert username_lookalike("BOB") == made[1]
    assert username_lookalike("carol") is None


@pytest.mark.django_db
def test_a_rename_moves_the_skeleton():
    user = user_create(username="alice", password=PASSWORD)
    user.username = "carol"
    user.save()
    assert UsernameSkeleton.objects.get(user=user).skeleton == "carol"
    assert sign_up("\u0430lice").status_code == 201  # the old name is free again
    assert sign_up("c\u0430rol").json()["fields"] == {"username": [LOOKALIKE]}


@pytest.mark.django_db
def test_the_index_refuses_a_second_lookalike_whatever_the_check_said():
    user_create(username="alice", password=PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user(username="\u0430lice")
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_the_check_is_one_lookup_in_a_unique_index():
    user_create(username="alice", password=PASSWORD)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(ValidationError):
            user_create(username="\u0430lice", password=PASSWORD)
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "accounts_usernameskeleton" in queries[0]["sql"]
    unique = [c for c in connection.introspection.get_constraints(connection.cursor(), "accounts_usernameskeleton").values()
              if c["columns"] == ["skeleton"] and c["unique"]]
    assert unique


class HashOutsideTransactions(MD5PasswordHasher):
    """Fails the test when a password is hashed inside a transaction."""

    algorithm = "md5_outside_transactions"

    def encode(self, password, salt):
        assert not connection.in_atomic_block, "a password was hashed inside a transaction"
        return super().encode(password, salt)


@pytest.mark.django_db(transaction=True)
def test_the_password_is_hashed_before_the_sign_ups_transaction(settings):
    # On SQLite the transaction holds the database's write lock: hashing in it
    # (a few hundred milliseconds with the real hasher) stalled every writer.
    settings.PASSWORD_HASHERS = [f"{__name__}.HashOutsideTransactions"]
    user = user_create(username="hashfirst", password=PASSWORD)
    stored = get_user_model().objects.get(pk=user.pk)
    assert stored.password.startswith("md5_outside_transactions$")
    assert stored.check_password(PASSWORD)
    assert UsernameSkeleton.objects.get(user=stored).skeleton == "hashfirst"


# ---- a race between sign-ups, in real processes ----------------------------------

WORKER = """
import os, sys, time
import django
django.setup()
from django.core.exceptions import ValidationError
from accounts.services import user_create
username, go_file = sys.argv[1], sys.argv[2]
print("ready", flush=True)
while not os.path.exists(go_file):
    time.sleep(0.002)
try:
    user_create(username=username, password="correct horse battery staple")
    print("created", flush=True)
except ValidationError as error:
    print("refused", error.message_dict["username"][0], flush=True)
"""

RACERS = ["alice", "\u0430lice", "a1ice", "ALICE", "al\u0456ce", "\u0430l\u0456c\u0435"]


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield databases.create_sqlite(tmp_path / "names.sqlite3")
        return
    name = f"chat_names_{uuid.uuid4().hex[:12]}"
    yield databases.create_postgres(name)
    databases.drop_postgres(name)


def test_of_racing_lookalike_sign_ups_exactly_one_gets_in(fresh_database, tmp_path):
    env = databases.django_env(tmp_path, secret="names-race", DATABASE_URL=fresh_database)
    go_file = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, name, str(go_file)], cwd=BACKEND_DIR, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in RACERS]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        time.sleep(0.2)
        go_file.touch()
        outputs = [worker.communicate(timeout=120) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    results = [stdout.strip() for stdout, _ in outputs]
    assert all(worker.returncode == 0 for worker in workers), [stderr for _, stderr in outputs]
    assert results.count("created") == 1, results
    assert all(r == "created" or r.startswith("refused ") for r in results), results


# ---- the migration ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_every_existing_user():
    from django.db.migrations.executor import MigrationExecutor

    MigrationExecutor(connection).migrate([("accounts", None)])
    User = get_user_model()
    # bulk_create sends no post_save: these are users from before the table existed.
    User.objects.bulk_create([User(username=name) for name in ("alice", "Bob", "\u0430lice", "carol")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("accounts"))
    rows = dict(UsernameSkeleton.objects.values_list("user__username", "skeleton"))
    # The newer of two lookalikes gets no row; the older one's guards the name for both.
    assert rows == {"alice": "alice", "Bob": "bob", "carol": "carol"}
    assert username_lookalike("\u0430lice").username == "alice"
