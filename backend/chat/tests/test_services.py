"""Writes against a real database: seq numbering, idempotent sends, read markers."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Membership, Message, Room
from chat.selectors import room_list
from chat.services import (
    RoomForbidden, RoomNotFound, SendLimited, SendRate, message_create, read_marker_move, room_create, room_forget,
    room_join,
)

pytestmark = pytest.mark.django_db

WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def marker(user, room: str) -> int:
    return Membership.objects.get(user=user, room__name=room).last_read_seq


def test_room_join_creates_room_and_membership_once(user):
    room_join(user=user, name="lobby")
    room_join(user=user, name="lobby")

    room = Room.objects.get(name="lobby")
    assert room.last_seq == 0
    assert Membership.objects.filter(user=user, room=room).count() == 1
    assert marker(user, "lobby") == 0


def test_a_join_that_races_the_rooms_creation_joins_it(user, other_user, monkeypatch):
    """Two sockets join a new name at once: the second's first read finds no
    room, the first creates it meanwhile; the second then joins it too, not
    `forbidden` (bench/scale.py met this at 10,000 sockets)."""
    from chat.services import rooms  # where room_join looks rooms_readable_by up

    real = rooms.rooms_readable_by
    raced = []

    def first_read_before_the_other_create(who):
        if not raced:
            raced.append(who)
            before = real(who).none()  # what the first read saw: no such room yet
            room_join(user=other_user, name="racy")  # the other socket creates it now
            return before
        return real(who)

    monkeypatch.setattr(rooms, "rooms_readable_by", first_read_before_the_other_create)
    room_join(user=user, name="racy")

    assert raced == [user]
    assert Membership.objects.filter(room__name="racy").count() == 2


def test_a_join_of_someone_elses_private_room_is_forbidden(user, other_user):
    room_create(user=other_user, name="secret", kind=Room.Kind.PRIVATE)
    with pytest.raises(RoomForbidden):
        room_join(user=user, name="secret")
    assert not Membership.objects.filter(user=user, room__name="secret").exists()


def test_room_join_keeps_an_existing_marker(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    message_create(user=other_user, room="lobby", body="hi", client_id="c1")
    read_marker_move(user=user, room="lobby", seq=1)

    room_join(user=user, name="lobby")

    assert marker(user, "lobby") == 1


def test_message_create_returns_the_wire_message(user):
    room_join(user=user, name="lobby")

    message, created = message_create(user=user, room="lobby", body="hello", client_id="c1")

    stored = Message.objects.get()
    assert created is True
    assert message == {
        "id": stored.pk,
        "room": "lobby",
        "seq": 1,
        "author": {"id": user.pk, "username": "alice"},
        "body": "hello",
        "created_at": message["created_at"],
        "client_id": "c1",
        "rev": 1,
        "reply_to": None,
        "mentions": [],
        "edited_at": None,
        "deleted": False,
        "reactions": [],
            "attachments": [],
    }
    assert WIRE_TIME.match(message["created_at"])


def test_seq_is_gapless_per_room(user):
    room_join(user=user, name="a")
    room_join(user=user, name="b")

    seqs_a = [message_create(user=user, room="a", body="x", client_id=f"a{i}")[0]["seq"] for i in range(5)]
    seqs_b = [message_create(user=user, room="b", body="x", client_id=f"b{i}")[0]["seq"] for i in range(3)]

    assert seqs_a == [1, 2, 3, 4, 5]
    assert seqs_b == [1, 2, 3]
    assert Room.objects.get(name="a").last_seq == 5
    assert Room.objects.get(name="b").last_seq == 3


def test_repeated_client_id_stores_nothing_and_returns_the_first(user):
    room_join(user=user, name="lobby")
    first, created_first = message_create(user=user, room="lobby", body="once", client_id="c1")

    again, created_again = message_create(user=user, room="lobby", body="changed", client_id="c1")

    assert (created_first, created_again) == (True, False)
    assert again == first
    assert Message.objects.count() == 1
    assert Room.objects.get(name="lobby").last_seq == 1


def test_a_send_whose_membership_row_is_missing_gets_it_back_with_the_marker(user, other_user):
    room_join(user=user, name="lobby")
    Membership.objects.filter(user=user).delete()

    message, created = message_create(user=user, room="lobby", body="hi", client_id="c1")

    assert created and message["seq"] == 1
    assert marker(user, "lobby") == 1


def test_same_client_id_from_another_user_is_a_new_message(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")

    mine, _ = message_create(user=user, room="lobby", body="a", client_id="same")
    theirs, created = message_create(user=other_user, room="lobby", body="b", client_id="same")

    assert created is True
    assert (mine["seq"], theirs["seq"]) == (1, 2)
    assert theirs["author"]["username"] == "bob"


def test_message_create_in_unknown_room_raises_and_stores_nothing(user):
    with pytest.raises(RoomNotFound):
        message_create(user=user, room="nowhere", body="x", client_id="c1")

    assert not Room.objects.exclude(name="general").exists()  # general: made by a migration
    assert not Message.objects.exists()


def test_own_send_moves_marker_to_the_new_seq(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    message_create(user=other_user, room="lobby", body="1", client_id="o1")
    message_create(user=other_user, room="lobby", body="2", client_id="o2")

    message_create(user=user, room="lobby", body="3", client_id="m1")

    assert marker(user, "lobby") == 3
    assert marker(other_user, "lobby") == 2
    assert {r["name"]: r["unread"] for r in room_list(user=user)} == {"general": 0, "lobby": 0}


def test_read_marker_moves_forward_only_and_clamps_to_last_seq(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    for i in range(4):
        message_create(user=other_user, room="lobby", body=str(i), client_id=f"o{i}")

    read_marker_move(user=user, room="lobby", seq=3)
    assert marker(user, "lobby") == 3
    read_marker_move(user=user, room="lobby", seq=1)
    assert marker(user, "lobby") == 3
    read_marker_move(user=user, room="lobby", seq=999)
    assert marker(user, "lobby") == 4


def test_read_marker_move_is_a_noop_for_non_members_and_unknown_rooms(user, other_user):
    room_join(user=other_user, name="lobby")
    message_create(user=other_user, room="lobby", body="x", client_id="o1")

    read_marker_move(user=user, room="lobby", seq=1)
    read_marker_move(user=user, room="nowhere", seq=1)

    assert not Membership.objects.filter(user=user).exists()
    assert not Room.objects.filter(name="nowhere").exists()


def test_message_create_is_a_bounded_number_of_queries(user):
    room_join(user=user, name="lobby")
    message_create(user=user, room="lobby", body="warm", client_id="c0")

    with CaptureQueriesContext(connection) as queries:
        message_create(user=user, room="lobby", body="x", client_id="c1")

    # SQLite: savepoint, rate, seq, insert, marker, whether anyone wants every
    # message pushed, release (PostgreSQL: one statement)
    assert len(queries) <= 7


def test_accepts_the_lazy_user_a_socket_scope_carries(user):
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: user)
    room_join(user=lazy, name="lobby")

    message, created = message_create(user=lazy, room="lobby", body="hi", client_id="c1")

    assert created and message["author"] == {"id": user.pk, "username": "alice"}
    assert marker(user, "lobby") == 1


def test_the_send_rate_counts_what_the_user_stored_in_the_window(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    rate = SendRate(limit=2, window=10)
    message_create(user=user, room="lobby", body="1", client_id="c1", rate=rate)
    message_create(user=user, room="lobby", body="2", client_id="c2", rate=rate)

    with pytest.raises(SendLimited):
        message_create(user=user, room="lobby", body="3", client_id="c3", rate=rate)
    # Someone else's messages are theirs; an older message is out of the window.
    assert message_create(user=other_user, room="lobby", body="x", client_id="o1", rate=rate)[1] is True
    Message.objects.filter(author=user, client_id="c1").update(created_at=timezone.now() - timedelta(seconds=11))
    message, created = message_create(user=user, room="lobby", body="3", client_id="c3", rate=rate)

    assert created and message["seq"] == 4
    assert Room.objects.get(name="lobby").last_seq == 4  # the refused send took no seq


def test_a_resend_under_the_rate_is_answered_and_not_counted(user):
    room_join(user=user, name="lobby")
    rate = SendRate(limit=2, window=10)
    first, _ = message_create(user=user, room="lobby", body="1", client_id="c1", rate=rate)

    again, created = message_create(user=user, room="lobby", body="1", client_id="c1", rate=rate)
    second, created_second = message_create(user=user, room="lobby", body="2", client_id="c2", rate=rate)

    assert (again, created) == (first, False)
    assert created_second and second["seq"] == 2


def test_room_forget_takes_the_membership_and_its_marker(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")
    message_create(user=other_user, room="lobby", body="1", client_id="o1")
    read_marker_move(user=user, room="lobby", seq=1)

    room_forget(user=user, room="lobby")
    room_forget(user=user, room="lobby")  # again: nothing to do
    room_forget(user=user, room="nowhere")

    assert {r["name"]: (r["member"], r["unread"]) for r in room_list(user=user)} == {
        "general": (False, 0), "lobby": (False, 0),
    }
    assert marker(other_user, "lobby") == 1  # the others' memberships stay (their own send moved it)
    # Joined again later: a new member, the marker from 0.
    room_join(user=user, name="lobby")
    assert marker(user, "lobby") == 0
