"""Rooms of version 2 against the real database: the access rule
(selectors.rooms_readable_by and its SQL twin), create, dm, invite, remove,
topic, leave, and the constraints that hold them."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from chat.models import Membership, Message, Room
from chat.selectors import messages_before, room_access, room_info, room_infos_for_members, room_list, rooms_readable_by
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


def test_a_dm_name_is_a_dm_room_only(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(name="dm-5-6", kind="public")
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(name="chat", kind="dm")


@pytest.mark.django_db(transaction=True)
def test_migration_renames_public_rooms_with_dm_names():
    from django.db.migrations.executor import MigrationExecutor

    before = [("chat", "0003_general_room")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_room = executor.loader.project_state(before).apps.get_model("chat", "Room")
    old_room.objects.create(name="dm-1-2")  # a version 1 `join` could make this
    old_room.objects.create(name="xdm-1-2")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # (general is there or not, as earlier transactional tests left the database.)
    assert set(Room.objects.exclude(name="general").values_list("name", "kind")) == {
        ("xdm-1-2", "public"), ("xdm-1-2-2", "public"),
    }


def test_invite_remove_and_who_may(people, user_factory):
    alice, bob, carol, staff = people
    room_create(user=alice, name="priv", kind="private")
    assert member_invite(user=alice, room="priv", username="Bob") == ({"id": bob.pk, "username": "bob"}, True)
    assert member_invite(user=bob, room="priv", username="carol")[1] is True  # any member invites
    assert member_invite(user=bob, room="priv", username="carol")[1] is False
    with pytest.raises(UserNotFound):
        member_invite(user=alice, room="priv", username="nobody")
    with pytest.raises(RoomForbidden):
        member_remove(user=bob, room="priv", username="carol")  # members do not remove
    with pytest.raises(RoomForbidden):
        member_remove(user=staff, room="priv", username="alice")  # nobody removes the owner
    assert member_remove(user=staff, room="priv", username="carol")[1] is True
    assert member_remove(user=alice, room="priv", username="carol")[1] is False
    assert "priv" not in readable(carol)
    stranger = user_factory("erin")
    with pytest.raises(RoomForbidden):
        member_invite(user=stranger, room="priv", username="erin")
    room_create(user=alice, name="pub", kind="public")
    with pytest.raises(RoomForbidden):
        member_invite(user=alice, room="pub", username="bob")
    with pytest.raises(RoomForbidden):
        member_remove(user=alice, room="pub", username="bob")


def test_topic_rules(people):
    alice, bob, carol, staff = people
    room_create(user=alice, name="priv", kind="private")
    member_invite(user=alice, room="priv", username="bob")
    with pytest.raises(RoomForbidden):
        topic_set(user=bob, room="priv", topic="no")
    topic_set(user=staff, room="priv", topic="staff's")
    room_join(user=bob, name="general")
    topic_set(user=bob, room="general", topic="hello")
    with pytest.raises(RoomForbidden):
        topic_set(user=carol, room="general", topic="not a member")
    with pytest.raises(RoomForbidden):
        topic_set(user=carol, room="nowhere", topic="x")
    assert dict(Room.objects.values_list("name", "topic")) == {"general": "hello", "priv": "staff's"}


def test_a_removed_member_cannot_send_read_or_page(people):
    alice, bob, *_ = people
    room_create(user=alice, name="priv", kind="private")
    member_invite(user=alice, room="priv", username="bob")
    message_create(user=bob, room="priv", body="in", client_id="b1")
    member_remove(user=alice, room="priv", username="bob")
    with pytest.raises(RoomForbidden):
        message_create(user=bob, room="priv", body="out", client_id="b2")
    assert messages_before(room="priv", before=10, user=bob) == ([], False)
    read_marker_move(user=bob, room="priv", seq=1)
    assert Message.objects.filter(room__name="priv").count() == 1
    assert room_access(user=bob, name="priv") == ("private", False, False)
    assert room_access(user=alice, name="priv") == ("private", True, True)


def test_leaving_a_private_room_for_good(people):
    alice, bob, *_ = people
    room_create(user=alice, name="priv", kind="private")
    member_invite(user=alice, room="priv", username="bob")
    assert room_forget(user=alice, room="priv") is True
    assert Room.objects.get(name="priv").owner_id is None  # the owner left: no owner
    assert set(room_infos_for_members(name="priv")) == {bob.pk}
    assert room_forget(user=alice, room="priv") is False
