"""POST /api/password through the real middleware stack, CSRF on. Closing the
other sessions' sockets on every process is tested end to end
(tests/test_e2e_accounts.py); here the close order reaches a real (in-memory)
channel layer."""

import json
import sys
import types

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.test import Client

from chat.events import user_group

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


def logged_in(username="alice", password=PASSWORD) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/api/session")
    r = client.post("/api/session", data=json.dumps({"username": username, "password": password}),
                    content_type="application/json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert r.status_code == 200
    return client


def change(client: Client, old=PASSWORD, new=NEW_PASSWORD, *, raw: bytes | None = None):
    if "csrftoken" not in client.cookies:
        client.get("/api/session")
    data = raw if raw is not None else json.dumps({"old_password": old, "new_password": new})
    return client.post("/api/password", data=data, content_type="application/json",
                       HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)


@pytest.fixture
def close_orders(alice):
    """What a process holding alice's sockets receives from the channel layer."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)

    def received():
        return async_to_sync(layer.receive)(channel)

    return received


def test_changes_the_password_keeps_this_session_and_ends_the_others(alice, close_orders):
    laptop, phone = logged_in(), logged_in()
    laptop_key = laptop.cookies["sessionid"].value

    r = change(laptop)

    assert r.status_code == 200
    assert r.json() == {"user": {"id": alice.pk, "username": "alice"}}
    assert laptop.get("/api/session").json()["user"] == {"id": alice.pk, "username": "alice"}
    assert phone.get("/api/session").json() == {"user": None}
    # The session key changed (no fixation), but the close order spares the
    # sockets opened with the key they had.
    assert laptop.cookies["sessionid"].value != laptop_key
    order = close_orders()
    assert order == {"type": "user.close", "user": alice.pk, "session_key": None, "keep_session_key": laptop_key,
                     "kept_key_now": laptop.cookies["sessionid"].value}
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD) and not alice.check_password(PASSWORD)


def test_without_a_session_is_401(alice):
    r = change(Client(enforce_csrf_checks=True))
    assert r.status_code == 401
    assert set(r.json()) == {"error"}


def test_needs_the_csrf_header(alice):
    client = logged_in()
    r = client.post("/api/password", data=json.dumps({"old_password": PASSWORD, "new_password": NEW_PASSWORD}),
                    content_type="application/json")
    assert r.status_code == 403
    assert "CSRF" in r.json()["error"]


def test_a_wrong_old_password_is_400_on_old_password(alice):
    client = logged_in()
    r = change(client, old="not it")
    assert r.status_code == 400
    assert r.json()["error"]
    assert r.json()["fields"] == {"old_password": ["The current password is not correct."]}
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert client.get("/api/session").json()["user"]["username"] == "alice"


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("short", "This password is too short. It must contain at least 8 characters."),
        ("password", "This password is too common."),
        ("83749271093", "This password is entirely numeric."),
        ("alice1234", "The password is too similar to the username."),
    ],
)
def test_a_new_password_the_validators_refuse_is_400_on_new_password(alice, new, expected):
    r = change(logged_in(), new=new)
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"new_password"}
    assert expected in r.json()["fields"]["new_password"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_both_fields_wrong_names_both(alice):
    assert set(change(logged_in(), old="nope", new="1").json()["fields"]) == {"old_password", "new_password"}


def test_wrong_old_passwords_count_toward_the_login_lock_out(alice):
    client = logged_in()
    codes = [change(client, old=f"guess {n}").status_code for n in range(10)]
    assert codes == [400] * 9 + [429]
    r = change(client)
    assert r.status_code == 429 and r["Retry-After"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b"null", b'{"old_password": "x"}', b'{"new_password": "x"}',
     b'{"old_password": 1, "new_password": "x"}', b'{"old_password": "x", "new_password": ["y"]}',
     b'{"old_password": "\\ud800", "new_password": "x"}', b'{"old_password": "x", "new_password": "a\\u0000b"}'],
)
def test_malformed_bodies_are_400_with_an_error(alice, raw):
    r = change(logged_in(), raw=raw)
    assert r.status_code == 400
    assert isinstance(r.json()["error"], str) and "fields" not in r.json()


def test_other_methods_are_405(alice):
    r = logged_in().get("/api/password")
    assert r.status_code == 405
    assert r["Allow"] == "POST"


def test_still_changes_the_password_when_closing_sockets_fails(alice, monkeypatch):
    async def broken(**kwargs):
        raise ConnectionError("channel layer down")

    monkeypatch.setitem(sys.modules, "chat.events", types.SimpleNamespace(user_sessions_closed=broken))
    client = logged_in()
    assert change(client).status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
