"""Django's admin at /admin/: staff only; users searched and deactivated (their
sockets close), rooms searched and given another owner, messages searched and
deleted as tombstones."""

import re

import pytest
from django.test import Client

from chat.models import Membership, Message, Room
from chat.services import member_invite, message_create, room_create, room_join

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(user_factory):
    admin_user = user_factory("boss")
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_is_for_staff_only(user, staff):
    anonymous = Client().get("/admin/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    member = Client()
    member.force_login(user)
    assert member.get("/admin/chat/message/").status_code == 302  # to the login page, as not staff
    page = staff.get("/admin/")
    assert page.status_code == 200 and b"Rooms" in page.content and b"Messages" in page.content
    # The admin's own files come from /static/, which the policy's 'self' allows; no inline script.
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", page.content)


def test_the_spa_still_answers_every_other_path(staff):
    page = staff.get("/r/general")
    assert page.status_code == 200 and b'id="root"' in page.content


def test_users_rooms_and_messages_are_searched(user, other_user, staff):
    room_create(user=user, name="garden", kind="public", topic="tomatoes")
    message_create(user=user, room="garden", body="the zucchini is ripe", client_id="z1")
    message_create(user=user, room="garden", body="nothing", client_id="z2")
    users = staff.get("/admin/auth/user/", {"q": "bob"})
    assert users.status_code == 200 and b">bob<" in users.content and b">alice<" not in users.content
    rooms = staff.get("/admin/chat/room/", {"q": "tomatoes"})
    assert b"garden" in rooms.content and b"general" not in rooms.content
    messages = staff.get("/admin/chat/message/", {"q": "zucchini"})
    assert b"the zucchini is ripe" in messages.content and b"nothing" not in messages.content


def test_deactivating_a_user_closes_their_sockets(user, other_user, staff, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    from accounts import sockets

    closed = []
    monkeypatch.setattr(sockets, "close_sessions", lambda **kwargs: closed.append(kwargs))
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": [user.pk]})
    assert answer.status_code == 302
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (user.is_active, other_user.is_active) == (False, True)
    # Once committed, the logout path: every socket of the user closes with 4401
    # (accounts/tests/test_account_sockets.py follows it to the sockets).
    assert closed == [{"user_id": user.pk}]


def test_changing_a_private_rooms_owner_makes_them_a_member(user, other_user, staff):
    room_create(user=user, name="secret", kind="private", topic="t")
    room = Room.objects.get(name="secret")
    form = staff.get(f"/admin/chat/room/{room.pk}/change/")
    assert form.status_code == 200
    answer = staff.post(f"/admin/chat/room/{room.pk}/change/", {
        "owner": other_user.pk, "topic": "t",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "1",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": Membership.objects.get(room=room, user=user).pk,
        "memberships-0-room": room.pk, "memberships-0-user": user.pk,
    })
    assert answer.status_code == 302, answer.content[:2000]
    room.refresh_from_db()
    assert room.owner_id == other_user.pk
    assert set(Membership.objects.filter(room=room).values_list("user_id", flat=True)) == {user.pk, other_user.pk}


def test_deleting_messages_keeps_their_seq_and_blanks_the_body(user, staff):
    room_join(user=user, name="lobby")
    for k in range(3):
        message_create(user=user, room="lobby", body=f"m{k}", client_id=f"c{k}")
    doomed = Message.objects.get(room__name="lobby", seq=2)
    answer = staff.post("/admin/chat/message/", {"action": "tombstone", "_selected_action": [doomed.pk]})
    assert answer.status_code == 302
    rows = list(Message.objects.filter(room__name="lobby").order_by("seq").values_list("seq", "body", "deleted", "rev"))
    # The delete is a change: the room's next rev, as a `delete` frame's.
    assert rows == [(1, "m0", False, 1), (2, "", True, 4), (3, "m2", False, 3)]
    assert Room.objects.get(name="lobby").last_rev == 4
    # Deleting it again changes nothing.
    staff.post("/admin/chat/message/", {"action": "tombstone", "_selected_action": [doomed.pk]})
    assert Room.objects.get(name="lobby").last_rev == 4
    assert staff.post(f"/admin/chat/message/{doomed.pk}/delete/").status_code == 403  # never a real delete
