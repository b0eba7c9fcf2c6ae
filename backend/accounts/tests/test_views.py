"""Every row of the HTTP table for /api/session and /api/users, through the
real middleware stack with CSRF checks on."""

import json
import sys
import types

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def closed_sessions(monkeypatch):
    """Records chat.events.session_closed calls instead of reaching sockets."""
    calls = []

    async def session_closed(*, user_id: int, session_key: str) -> None:
        calls.append({"user_id": user_id, "session_key": session_key})

    try:
        import chat.events as events
    except ImportError:
        monkeypatch.setitem(sys.modules, "chat.events", types.SimpleNamespace(session_closed=session_closed))
    else:
        monkeypatch.setattr(events, "session_closed", session_closed)
    return calls


def csrf(client) -> dict:
    """Fetches the csrftoken cookie as the SPA does and returns the header."""
    if "csrftoken" not in client.cookies:
        assert client.get("/api/session").status_code == 200
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def send(client, method: str, path: str, body=None, *, raw: bytes | str | None = None, token: bool = True):
    data = raw if raw is not None else (json.dumps(body) if body is not None else "")
    headers = csrf(client) if token else {}
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def log_in(client, username="alice", password=PASSWORD):
    return send(client, "post", "/api/session", {"username": username, "password": password})


# ---- GET /api/session ----------------------------------------------------------


def test_get_session_anonymous_sets_the_csrf_cookie(client):
    response = client.get("/api/session")
    assert response.status_code == 200
    assert response.json() == {"user": None}
    assert response.cookies["csrftoken"].value


def test_get_session_logged_in(client, alice):
    log_in(client)
    response = client.get("/api/session")
    assert response.json() == {"user": {"id": alice.pk, "username": "alice"}}
    assert response.cookies["csrftoken"].value


def test_staff_are_marked_in_their_own_session(client, alice):
    # So the browser app offers them what the server lets them do in every room;
    # everyone else's USER stays exactly the contract's (above).
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    expected = {"user": {"id": alice.pk, "username": "alice", "is_staff": True}}
    assert log_in(client).json() == expected
    assert client.get("/api/session").json() == expected


# ---- POST /api/session ---------------------------------------------------------


def test_post_session_logs_in_with_a_session_cookie(client, alice):
    response = log_in(client)
    assert response.status_code == 200
    assert response.json() == {"user": {"id": alice.pk, "username": "alice"}}
    assert response.cookies["sessionid"].value
    assert response.cookies["sessionid"]["httponly"]


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong password"), ("nobody", PASSWORD), ("alice", " ")])
def test_post_session_wrong_credentials(client, alice, username, password):
    response = log_in(client, username, password)
    assert response.status_code == 400
    assert response.json() == {"error": "Wrong username or password."}
    assert client.get("/api/session").json() == {"user": None}


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("", PASSWORD, "Enter your username."),
        ("  ", PASSWORD, "Enter your username."),
        ("alice", "", "Enter your password."),
        ("", "", "Enter your username and password."),
    ],
)
def test_post_session_names_the_missing_field(client, alice, username, password, expected):
    response = log_in(client, username, password)
    assert response.status_code == 400
    assert response.json() == {"error": expected}
    assert client.get("/api/session").json() == {"user": None}


def test_an_empty_login_form_is_not_a_failed_login(client, alice, settings):
    # Not counted towards the lock-out: the person only forgot a field.
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert log_in(client, "alice", "").json() == {"error": "Enter your password."}
    assert log_in(client).status_code == 200


@pytest.mark.parametrize(
    ("username", "password", "expected", "fields"),
    [
        ("", PASSWORD, "Enter your username.", ["username"]),
        ("dorothea", "", "Enter your password.", ["password"]),
        (" ", "", "Enter your username and password.", ["username", "password"]),
    ],
)
def test_post_users_names_the_missing_field(client, username, password, expected, fields):
    response = send(client, "post", "/api/users", {"username": username, "password": password})
    assert response.status_code == 400
    assert response.json() == {"error": expected, "fields": {name: ["This field is required."] for name in fields}}
    assert not get_user_model().objects.exists()


def test_post_session_as_someone_else_closes_the_previous_session(client, alice, closed_sessions):
    get_user_model().objects.create_user(username="bob", password=PASSWORD)
    log_in(client)
    alice_key = client.cookies["sessionid"].value

    assert log_in(client, "bob").status_code == 200

    assert closed_sessions == [{"user_id": alice.pk, "session_key": alice_key}]
    assert client.get("/api/session").json()["user"]["username"] == "bob"


# ---- DELETE /api/session -------------------------------------------------------


def test_delete_session_logs_out_and_closes_its_sockets(client, alice, closed_sessions):
    log_in(client)
    session_key = client.cookies["sessionid"].value

    response = send(client, "delete", "/api/session")

    assert response.status_code == 204
    assert response.content == b""
    assert closed_sessions == [{"user_id": alice.pk, "session_key": session_key}]
    assert client.get("/api/session").json() == {"user": None}


def test_delete_session_when_logged_out_is_204(client, closed_sessions):
    assert send(client, "delete", "/api/session").status_code == 204
    assert closed_sessions == []


def test_delete_session_still_logs_out_when_closing_sockets_fails(client, alice, monkeypatch):
    async def broken(*, user_id: int, session_key: str) -> None:
        raise ConnectionError("channel layer down")

    monkeypatch.setitem(sys.modules, "chat.events", types.SimpleNamespace(session_closed=broken))
    log_in(client)
    assert send(client, "delete", "/api/session").status_code == 204
    assert client.get("/api/session").json() == {"user": None}


# ---- POST /api/users -----------------------------------------------------------


def test_post_users_creates_and_logs_in(client):
    response = send(client, "post", "/api/users", {"username": "carol", "password": PASSWORD})

    assert response.status_code == 201
    user = get_user_model().objects.get(username="carol")
    assert response.json() == {"user": {"id": user.pk, "username": "carol"}}
    assert user.check_password(PASSWORD)
    assert client.get("/api/session").json() == {"user": {"id": user.pk, "username": "carol"}}


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_post_users_taken_username(client, alice, username):
    response = send(client, "post", "/api/users", {"username": username, "password": PASSWORD})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]
    assert body["fields"] == {"username": ["A user with that username already exists."]}


@pytest.mark.parametrize("username", ["", "has space", "semi;colon", "x" * 151])
def test_post_users_invalid_username(client, username):
    response = send(client, "post", "/api/users", {"username": username, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json()["fields"]["username"]
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "This password is too short. It must contain at least 8 characters."),
        ("password", "This password is too common."),
        ("83749271093", "This password is entirely numeric."),
        ("dorothea1", "The password is too similar to the username."),
    ],
)
def test_post_users_weak_password(client, password, expected):
    response = send(client, "post", "/api/users", {"username": "dorothea", "password": password})
    assert response.status_code == 400
    body = response.json()
    assert expected in body["fields"]["password"]
    assert "username" not in body["fields"]
    assert client.get("/api/session").json() == {"user": None}


def test_post_users_reports_both_fields(client, alice):
    response = send(client, "post", "/api/users", {"username": "alice", "password": "1"})
    assert set(response.json()["fields"]) == {"username", "password"}


# ---- CSRF ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("post", "/api/session"), ("delete", "/api/session"), ("post", "/api/users")])
def test_unsafe_methods_need_the_csrf_header(client, alice, method, path):
    client.get("/api/session")
    response = send(client, method, path, {"username": "alice", "password": PASSWORD}, token=False)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["error"]


def test_a_wrong_csrf_token_is_refused(client, alice):
    client.get("/api/session")
    response = client.post(
        "/api/session",
        data=json.dumps({"username": "alice", "password": PASSWORD}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN="x" * 32,
    )
    assert response.status_code == 403
    assert response.json()["error"]


def test_login_rotates_the_csrf_token(client, alice):
    before = csrf(client)["HTTP_X_CSRFTOKEN"]
    log_in(client)
    assert client.cookies["csrftoken"].value != before
    assert send(client, "delete", "/api/session").status_code == 204


# ---- malformed bodies, methods, paths --------------------------------------------

MALFORMED = [
    b"",
    b"not json",
    b"{",
    b"\xff\xfe",
    b"[]",
    b'"alice"',
    b"null",
    b"42",
    b'{"username": "alice"}',
    b'{"password": "x"}',
    b'{"username": 1, "password": "x"}',
    b'{"username": "alice", "password": null}',
    b'{"username": ["alice"], "password": "x"}',
    b'{"username": "alice", "password": {"a": 1}}',
    b"NaN",
    # Valid JSON Python cannot take apart: too deep, or a number too long.
    b"[" * 100_000 + b"]" * 100_000,
    b'{"username": "alice", "password": "x", "n": ' + b"9" * 5000 + b"}",
    # Lone surrogates are JSON but not text: they cannot be hashed or queried.
    b'{"username": "alice", "password": "\\ud800"}',
    b'{"username": "\\udfff", "password": "x"}',
    b'{"username": "ali\\u0000ce", "password": "x"}',
]


@pytest.mark.parametrize("path", ["/api/session", "/api/users"])
@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_bodies_are_400_with_an_error(client, alice, path, raw):
    response = send(client, "post", path, raw=raw)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)
    assert "fields" not in response.json()


def test_an_oversized_body_is_400_json(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(client, "post", "/api/users", {"username": "carol", "password": "p" * 5000})
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("put", "/api/session", "DELETE, GET, POST"), ("patch", "/api/session", "DELETE, GET, POST"),
     ("get", "/api/users", "POST"), ("delete", "/api/users", "POST")],
)
def test_wrong_method_is_405_json(client, method, path, allow):
    response = send(client, method, path, {})
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response.json()["error"]


@pytest.mark.parametrize("path", ["/api/unknown", "/api/", "/api/session/", "/api/users/42", "/api/deep/er/path"])
def test_unknown_api_paths_are_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_a_bad_host_under_api_is_400_json(client):
    response = client.get("/api/session", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"error": "bad request"}


def test_delete_session_reaches_the_users_sockets_through_the_channel_layer(client, alice):
    # The real events door and the real (in-memory) channel layer: a channel in
    # the user's group, as a socket's process has, receives the close order.
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from chat.events import user_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)
    log_in(client)
    session_key = client.cookies["sessionid"].value

    assert send(client, "delete", "/api/session").status_code == 204

    message = async_to_sync(layer.receive)(channel)
    assert message["session_key"] == session_key
    assert message["user"] == alice.pk
