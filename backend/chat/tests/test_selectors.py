"""Reads against a real database: paging windows, has_more, unread counts, query counts."""

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Message, Room
from chat.selectors import (
    message_by_client_id,
    messages_before,
    messages_latest,
    messages_since,
    messages_stored_since,
    room_info,
    room_list,
)
from chat.services import message_create, read_marker_move, room_join

pytestmark = pytest.mark.django_db


def fill(*, room: str, count: int, author) -> None:
    """Stores `count` messages fast, in the shape message_create would leave them."""
    room_row = Room.objects.get(name=room)
    start, rev = room_row.last_seq, room_row.last_rev
    Message.objects.bulk_create(
        Message(
            room=room_row, seq=start + i, rev=rev + i, author=author, body=f"m{start + i}",
            client_id=f"{room}-{start + i}",
        )
        for i in range(1, count + 1)
    )
    Room.objects.filter(pk=room_row.pk).update(last_seq=start + count, last_rev=rev + count)


def seqs(messages) -> list[int]:
    return [m["seq"] for m in messages]


@pytest.fixture
def lobby(user):
    room_join(user=user, name="lobby")
    return "lobby"


def test_latest_returns_newest_50_ascending_with_has_more(user, lobby):
    fill(room=lobby, count=120, author=user)

    messages, has_more = messages_latest(room=lobby)

    assert seqs(messages) == list(range(71, 121))
    assert has_more is True


def test_latest_without_older_messages_has_no_more(user, lobby):
    fill(room=lobby, count=50, author=user)

    messages, has_more = messages_latest(room=lobby)

    assert seqs(messages) == list(range(1, 51))
    assert has_more is False


def test_latest_in_an_empty_room(lobby):
    assert messages_latest(room=lobby) == ([], False)


def test_since_is_capped_at_the_500_oldest_with_has_more(user, lobby):
    fill(room=lobby, count=1203, author=user)

    first, more_first = messages_since(room=lobby, since=0)
    second, more_second = messages_since(room=lobby, since=first[-1]["seq"])
    third, more_third = messages_since(room=lobby, since=second[-1]["seq"])

    assert seqs(first) == list(range(1, 501)) and more_first is True
    assert seqs(second) == list(range(501, 1001)) and more_second is True
    assert seqs(third) == list(range(1001, 1204)) and more_third is False


def test_stored_since_is_each_rooms_newest_page_from_a_moment_on(user, lobby):
    room_join(user=user, name="quiet")
    room_join(user=user, name="elsewhere")
    fill(room=lobby, count=80, author=user)
    fill(room="quiet", count=3, author=user)
    fill(room="elsewhere", count=5, author=user)
    now = timezone.now()
    Message.objects.filter(room__name=lobby, seq__lte=70).update(created_at=now - timedelta(minutes=5))
    Message.objects.filter(room__name="quiet").update(created_at=now - timedelta(minutes=5))

    found = messages_stored_since(rooms=[lobby, "quiet"], since=now - timedelta(minutes=1), limit=6)

    # Not "quiet" (nothing that new), nor "elsewhere" (not asked for); the newest 6 of 10, ascending.
    assert list(found) == [lobby]
    assert seqs(found[lobby]) == list(range(75, 81))
    assert found[lobby][0]["room"] == lobby and found[lobby][0]["body"] == "m75"


def test_since_exactly_at_the_cap_has_no_more(user, lobby):
    fill(room=lobby, count=510, author=user)

    messages, has_more = messages_since(room=lobby, since=10)

    assert seqs(messages) == list(range(11, 511))
    assert has_more is False


def test_since_at_the_head_is_empty(user, lobby):
    fill(room=lobby, count=3, author=user)

    assert messages_since(room=lobby, since=3) == ([], False)


def test_before_pages_back_to_the_start(user, lobby):
    fill(room=lobby, count=120, author=user)

    page, has_more = messages_before(room=lobby, before=71)
    assert seqs(page) == list(range(21, 71)) and has_more is True
    page, has_more = messages_before(room=lobby, before=21)
    assert seqs(page) == list(range(1, 21)) and has_more is False
    page, has_more = messages_before(room=lobby, before=5, limit=2)
    assert seqs(page) == [3, 4] and has_more is True


def test_unknown_room_reads_empty(user):
    assert messages_latest(room="nowhere") == ([], False)
    assert messages_since(room="nowhere", since=0) == ([], False)
    assert messages_before(room="nowhere", before=10) == ([], False)


def test_pages_are_four_queries_each(user, lobby):
    fill(room=lobby, count=60, author=user)

    for read in (
        lambda: messages_latest(room=lobby),
        lambda: messages_since(room=lobby, since=0),
        lambda: messages_before(room=lobby, before=60),
    ):
        with CaptureQueriesContext(connection) as queries:
            messages, _ = read()
        # The page with authors and replies, then all its reactions, its mentions, its attachments.
        assert messages and len(queries) == 4


def test_messages_are_wire_shaped(user, lobby):
    sent, _ = message_create(user=user, room=lobby, body="hi", client_id="c1")

    (latest,), _ = messages_latest(room=lobby)

    assert latest == sent
    assert set(latest) == {
        "id", "room", "seq", "author", "body", "created_at", "client_id",
        "rev", "reply_to", "mentions", "edited_at", "deleted", "reactions",
        "attachments",
    }
    assert latest["author"] == {"id": user.pk, "username": "alice"}


def test_message_by_client_id_is_per_author(user, other_user, lobby):
    sent, _ = message_create(user=user, room=lobby, body="hi", client_id="c1")

    assert message_by_client_id(user=user, client_id="c1") == sent
    assert message_by_client_id(user=other_user, client_id="c1") is None
    assert message_by_client_id(user=user, client_id="other") is None


def v1_fields(room: dict) -> dict:
    """A `rooms` entry as version 1 knew it."""
    return {key: room[key] for key in ("name", "last_seq", "member", "unread")}


def test_room_list_counts_unread_from_others_only(user, other_user, user_factory):
    carol = user_factory("carol")
    room_join(user=user, name="beta")
    room_join(user=other_user, name="beta")
    room_join(user=other_user, name="alpha")
    room_join(user=carol, name="gamma")
    for i in range(3):
        message_create(user=other_user, room="beta", body="x", client_id=f"b{i}")
    message_create(user=user, room="beta", body="mine", client_id="mine")  # seq 4, marker to 4
    message_create(user=other_user, room="beta", body="x", client_id="b-late")  # seq 5
    message_create(user=other_user, room="alpha", body="x", client_id="a0")
    message_create(user=carol, room="gamma", body="x", client_id="g0")

    rooms = [v1_fields(room) for room in room_list(user=user)]

    assert rooms == [
        {"name": "alpha", "last_seq": 1, "member": False, "unread": 0},
        {"name": "beta", "last_seq": 5, "member": True, "unread": 1},
        {"name": "gamma", "last_seq": 1, "member": False, "unread": 0},
        {"name": "general", "last_seq": 0, "member": False, "unread": 0},
    ]


def test_room_list_unread_follows_the_read_marker(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    for i in range(4):
        message_create(user=other_user, room="lobby", body="x", client_id=f"o{i}")
    assert room_info(user=user, name="lobby")["unread"] == 4

    read_marker_move(user=user, room="lobby", seq=3)

    assert room_info(user=user, name="lobby")["unread"] == 1
    assert room_info(user=other_user, name="lobby")["unread"] == 0


def test_room_list_is_one_query_however_many_rooms(user, other_user):
    for i in range(12):
        room_join(user=other_user, name=f"room-{i:02}")
        if i % 2:
            room_join(user=user, name=f"room-{i:02}")
        message_create(user=other_user, room=f"room-{i:02}", body="x", client_id=f"c{i}")

    with CaptureQueriesContext(connection) as queries:
        rooms = room_list(user=user)

    assert len(queries) == 1
    assert [r["name"] for r in rooms] == ["general"] + [f"room-{i:02}" for i in range(12)]
    assert [r["unread"] for r in rooms] == [0] + [i % 2 for i in range(12)]


def test_a_new_user_finds_general_from_the_start(user):
    # Made by migration 0003, so a first-time user has a room to land in.
    assert room_list(user=user) == [{
        "name": "general", "kind": "public", "topic": "", "owner": None, "members": None, "last_seq": 0,
        "member": False, "unread": 0, "mentions": 0, "rev": 0,
    }]


def test_general_migration_is_idempotent_and_keeps_an_existing_room(user):
    from django.apps import apps as current_apps

    general_migration = importlib.import_module("chat.migrations.0003_general_room")
    room_join(user=user, name="general")
    message_create(user=user, room="general", body="kept", client_id="g1")
    general_migration.create_general(current_apps, None)
    general_migration.create_general(current_apps, None)
    assert Room.objects.filter(name="general").count() == 1
    assert v1_fields(room_info(user=user, name="general")) == {
        "name": "general", "last_seq": 1, "member": True, "unread": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_general_is_back_after_a_flush():
    # A flush (`manage.py flush`, and the one that ends each transactional
    # test) empties every table; post_migrate puts the landing room back.
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert list(Room.objects.values_list("name", flat=True)) == ["general"]


def test_room_info_is_the_rooms_entry_of_one_room(user, other_user):
    room_join(user=other_user, name="lobby")
    message_create(user=other_user, room="lobby", body="x", client_id="o1")
    assert v1_fields(room_info(user=user, name="lobby")) == {"name": "lobby", "last_seq": 1, "member": False, "unread": 0}
    assert room_info(user=user, name="nowhere") is None
