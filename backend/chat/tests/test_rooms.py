"""Rooms of version 2 against the real database: the access rule
(selectors.rooms_readable_by and its SQL twin), create, dm, invite, remove,
topic, leave, and the constraints that hold them."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from chat.models import Membership, Message, Room
from chat.selectors import (
    messages_before, readers_among, room_access, room_info, room_infos_for_members, room_list, rooms_readable_by,
)
from chat.services import (
    RoomExists, RoomForbidden, RoomNotFound, UserNotFound, dm_create, dm_members, dm_name, member_invite,
    member_remove, message_create, read_marker_move, room_create, room_forget, room_join, topic_set,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(user_factory):
    alice, bob, carol = user_factory("alice"), user_factory("bob"), user_factory("carol")
    staff = user_factory("dave")
    staff.is_staff = True
    staff.save()
    return alice, bob, carol, staff


def open_dm(user, *usernames):
    name, member_ids, exists = dm_members(user=user, usernames=list(usernames))
    created = False if exists else dm_create(name=name, member_ids=member_ids)
    return name, created


def readable(user):
    return set(rooms_readable_by(user).values_list("name", flat=True))


def test_rooms_readable_by_each_kind_and_user(people):
    alice, bob, carol, staff = people
    room_create(user=alice, name="pub", kind="public")
    room_create(user=alice, name="priv", kind="private")
    member_invite(user=alice, room="priv", username="bob")
    dm, _ = open_dm(alice, "bob")

    assert readable(alice) == {"general", "pub", "priv", dm}
    assert readable(bob) == {"general", "pub", "priv", dm}
    assert readable(carol) == {"general", "pub"}
    assert readable(staff) == {"general", "pub", "priv"}  # staff own private rooms, not others' dms
    # The same rule for many users at once (chat/catchup.py), room by room.
    for room in ("general", "pub", "priv", dm, "nosuch"):
        expected = {person.pk for person in people if room in readable(person)}
        assert readers_among(room=room, user_ids=[person.pk for person in people]) == expected, room
    assert readers_among(room="priv", user_ids=[carol.pk, staff.pk]) == {staff.pk}
    assert readers_among(room="pub", user_ids=[]) == set()


def test_room_list_shows_kind_topic_owner_members(people):
    alice, bob, carol, staff = people
    room_create(user=alice, name="priv", kind="private", topic="plans")
    member_invite(user=alice, room="priv", username="bob")
    dm, _ = open_dm(bob, "alice")

    entries = {entry["name"]: entry for entry in room_list(user=bob)}

    assert entries["priv"] == {
        "name": "priv", "kind": "private", "topic": "plans", "owner": {"id": alice.pk, "username": "alice"},
        "members": [{"id": alice.pk, "username": "alice"}, {"id": bob.pk, "username": "bob"}],
        "last_seq": 0, "member": True, "unread": 0, "mentions": 0, "rev": 0,
    }
    assert entries[dm]["kind"] == "dm" and entries[dm]["owner"] is None
    assert [m["username"] for m in entries[dm]["members"]] == ["alice", "bob"]
    assert entries["general"]["members"] is None
    assert room_info(user=carol, name="priv") is None
    assert room_info(user=staff, name="priv")["member"] is False


def test_room_list_is_two_queries_with_private_rooms(people):
    alice, bob, *_ = people
    for i in range(5):
        room_create(user=alice, name=f"p{i}", kind="private")
        member_invite(user=alice, room=f"p{i}", username="bob")
    with CaptureQueriesContext(connection) as queries:
        rooms = room_list(user=bob)
    assert len(queries) == 2
    assert all(len(r["members"]) == 2 for r in rooms if r["kind"] == "private")


def test_create_takes_a_free_name_only(people):
    alice, bob, *_ = people
    room_create(user=alice, name="team", kind="private", topic="t")
    with pytest.raises(RoomExists):
        room_create(user=bob, name="team", kind="public")
    with pytest.raises(RoomExists):
        room_create(user=bob, name="general", kind="private")
    with pytest.raises(RoomForbidden):
        room_create(user=bob, name="dm-1-2", kind="public")
    room = Room.objects.get(name="team")
    assert (room.kind, room.topic, room.owner_id) == ("private", "t", alice.pk)
    assert list(Membership.objects.filter(room=room).values_list("user_id", flat=True)) == [alice.pk]


def test_join_of_private_dm_and_dm_names(people):
    alice, bob, carol, staff = people
    room_create(user=alice, name="priv", kind="private")
    dm, _ = open_dm(alice, "bob")
    for name in ("priv", dm, "dm-1-99"):
        with pytest.raises(RoomForbidden):
            room_join(user=carol, name=name)
    room_join(user=staff, name="priv")  # staff may, and become a member
    assert Membership.objects.filter(user=staff, room__name="priv").exists()
    with pytest.raises(RoomForbidden):
        room_join(user=staff, name=dm)
    with pytest.raises(RoomNotFound):
        room_join(user=carol, name="nowhere", create=False)
    assert not Room.objects.filter(name="dm-1-99").exists()


def test_dm_is_found_again_not_duplicated(people):
    alice, bob, carol, _ = people
    first, created = open_dm(alice, "bob", "carol")
    again, created_again = open_dm(carol, "ALICE", "bob", "carol")  # any case; the sender's own name dropped
    assert first == again == dm_name([carol.pk, alice.pk, bob.pk])
    assert first == f"dm-{alice.pk}-{bob.pk}-{carol.pk}"
    assert (created, created_again) == (True, False)
    assert dm_create(name=first, member_ids=[alice.pk, bob.pk, carol.pk]) is False
    assert Room.objects.filter(kind="dm").count() == 1
    assert Membership.objects.filter(room__name=first).count() == 3


def test_dm_refuses_unknown_users_and_bad_counts(people, user_factory):
    alice, bob, *_ = people
    with pytest.raises(UserNotFound) as missing:
        dm_members(user=alice, usernames=["bob", "nobody"])
    assert missing.value.username == "nobody"
    with pytest.raises(ValueError):
        dm_members(user=alice, usernames=["alice"])
    others = [user_factory(f"x{i}").username for i in range(8)]
    with pytest.raises(ValueError):
        dm_members(user=alice, usernames=others)
    assert dm_members(user=alice, usernames=others[:7])[1].__len__() == 8
    bob.is_active = False
    bob.save()
    with pytest.raises(UserNotFound):
        dm_members(user=alice, usernames=["bob"])


def test_dm_refuses_a_name_over_the_room_name_limit(db):
    # Seven-digit ids: eight members make dm- plus 8 * 7 digits and 7 dashes, 66 characters.
    user_model = get_user_model()
    me, *others = [user_model.objects.create_user(id=1_000_000 + i, username=f"big{i}", password="pw") for i in range(8)]
    with pytest.raises(ValueError, match="over 64 characters"):
        dm_members(user=me, usernames=[other.username for other in others])
    # Seven of them fit: 3 + 7 * 7 + 6 = 58 characters.
    name, _, _ = dm_members(user=me, usernames=[other.username for other in others[:6]])
    assert len(name) == 58
