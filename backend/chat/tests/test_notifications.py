"""Notifications without a socket, on the test database: whom a message is
pushed to (levels, defaults, mentions, the author, inactive users), the send's
own answer to "does anyone want every message", what starts a background
push at all, pushes that fail (logged, and forgotten when the keys are no
keys), the VAPID keys and the page's meta tag. The pushes themselves, through
real processes, are test_e2e_push.py's."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from chat.hub import close_hub
from chat.models import Membership, NotifyLevel, PushSubscription, Room
from chat.notifications import push, selectors, services, vapid
from chat.services import dm_create, member_invite, message_store, room_create, room_join

pytestmark = pytest.mark.django_db(transaction=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscribe(user, endpoint: str | None = None, p256dh: str | None = None) -> str:
    endpoint = endpoint or f"https://push.example.net/{secrets.token_hex(4)}"
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    services.push_subscribe(user=user, endpoint=endpoint, p256dh=p256dh or b64url(point),
                            auth=b64url(secrets.token_bytes(16)))
    return endpoint


def targets(room: str, author, mentions=()) -> tuple[str, dict[int, bool]]:
    kind, found = selectors.push_targets(room=room, author_id=author.pk, mentions=list(mentions))
    return kind, {target.user_id: target.mentioned for target in found}


@pytest.fixture
def carol(user_factory):
    return user_factory("carol")


# ---- whom a message is pushed to ---------------------------------------------------


def test_a_public_room_pushes_mentions_by_default_and_every_message_to_level_all(user, other_user, carol):
    for someone in (user, other_user, carol):
        room_join(user=someone, name="lobby")
        subscribe(someone)
    assert targets("lobby", user) == ("public", {})
    assert targets("lobby", user, [other_user.pk, user.pk]) == ("public", {other_user.pk: True})

    services.notify_level_set(user=carol, room="lobby", level="all")
    services.notify_level_set(user=other_user, room="lobby", level="nothing")
    assert targets("lobby", user) == ("public", {carol.pk: False})
    assert targets("lobby", user, [other_user.pk, carol.pk]) == ("public", {carol.pk: True})
    # The author is never pushed their own message, whatever their level.
    assert targets("lobby", carol, [carol.pk]) == ("public", {})


def test_level_all_counts_once_the_user_is_a_member_of_a_public_room(user, other_user):
    room_join(user=user, name="lobby")
    subscribe(other_user)
    services.notify_level_set(user=other_user, room="lobby", level="all")
    assert targets("lobby", user) == ("public", {})
    room_join(user=other_user, name="lobby")
    assert targets("lobby", user) == ("public", {other_user.pk: False})


def test_a_dm_pushes_every_message_by_default(user, other_user, carol):
    members = sorted([user.pk, other_user.pk, carol.pk])
    name = "dm-" + "-".join(map(str, members))
    dm_create(name=name, member_ids=members)
    subscribe(other_user)
    subscribe(carol)
    assert targets(name, user) == ("dm", {other_user.pk: False, carol.pk: False})
    services.notify_level_set(user=other_user, room=name, level="mentions")
    services.notify_level_set(user=carol, room=name, level="nothing")
    assert targets(name, user) == ("dm", {})
    assert targets(name, user, [other_user.pk, carol.pk]) == ("dm", {other_user.pk: True})


def test_inactive_users_and_users_without_subscriptions_are_not_pushed(user, other_user, carol):
    room_create(user=user, name="hush", kind="private")
    member_invite(user=user, room="hush", username="bob")
    member_invite(user=user, room="hush", username="carol")
    subscribe(other_user)
    assert targets("hush", user, [other_user.pk, carol.pk]) == ("private", {other_user.pk: True})
    other_user.is_active = False
    other_user.save()
    assert targets("hush", user, [other_user.pk, carol.pk]) == ("private", {})
    assert selectors.push_targets(room="nowhere", author_id=user.pk, mentions=[]) == ("", [])


def test_each_subscription_of_a_user_is_a_target(user, other_user):
    room_join(user=user, name="lobby")
    endpoints = {subscribe(other_user), subscribe(other_user)}
    _, found = selectors.push_targets(room="lobby", author_id=user.pk, mentions=[other_user.pk])
    assert {target.endpoint for target in found} == endpoints


# ---- the send's hint ----------------------------------------------------------------


def test_the_send_says_whether_anyone_else_wants_every_message_pushed(user, other_user):
    room_join(user=user, name="lobby")
    room_join(user=other_user, name="lobby")

    def hint(author, body="hello") -> bool:
        message, created, anyone_wants_all = message_store(
            user=author, room="lobby", body=body, client_id=secrets.token_hex(8)
        )
        assert created
        return anyone_wants_all

    assert hint(user) is False
    services.notify_level_set(user=other_user, room="lobby", level="all")
    assert hint(user) is False  # bob wants all but has no subscription to push to
    subscribe(other_user)
    assert hint(user) is True
    assert hint(other_user) is False  # not for bob's own messages
    services.notify_level_set(user=other_user, room="lobby", level="mentions")
    assert hint(user) is False


# ---- what starts a push ----------------------------------------------------------------


def message(room="lobby", mentions=(), author_id=1) -> dict:
    return {"room": room, "seq": 1, "author": {"id": author_id, "username": "alice"}, "body": "hi",
            "mentions": list(mentions)}


@pytest.fixture
def vapid_keys(settings):
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = vapid.generate()
    return settings


async def test_most_messages_start_nothing(vapid_keys, monkeypatch):
    started = []
    monkeypatch.setattr(push, "_push_message", lambda message: started.append(message) or asyncio.sleep(0))
    push.message_stored(message(), anyone_wants_all=False)
    push.message_stored(message(mentions=[1]), anyone_wants_all=False)  # the author mentions themself
    assert started == []
    push.message_stored(message(mentions=[2]), anyone_wants_all=False)
    push.message_stored(message(room="dm-1-2"), anyone_wants_all=False)
    push.message_stored(message(), anyone_wants_all=True)
    await push.settled()
    assert len(started) == 3

    vapid_keys.VAPID_PUBLIC_KEY = ""  # not configured: nothing, whatever the message
    push.message_stored(message(room="dm-1-2", mentions=[2]), anyone_wants_all=True)
    assert len(started) == 3


# ---- pushes that fail ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_push_that_fails_is_logged_and_keys_that_are_no_keys_are_forgotten(
    user, other_user, vapid_keys, caplog
):
    vapid_keys.CHAT_PUSH_ALLOW_HTTP = True
    await database_sync_to_async(room_join)(user=user, name="lobby")
    unreachable = f"http://127.0.0.1:{closed_port()}/push/1"
    not_a_point = f"http://127.0.0.1:{closed_port()}/push/2"
    await database_sync_to_async(subscribe)(other_user, unreachable)
    # 65 bytes, but no point of the curve: nothing can be encrypted for it.
    await database_sync_to_async(subscribe)(other_user, not_a_point, p256dh=b64url(b"\x04" + b"\x01" * 64))
    stored, _, hint = await database_sync_to_async(message_store)(
        user=user, room="lobby", body="hi @bob", client_id="c1"
    )
    with caplog.at_level(logging.INFO, logger="chat.notifications.push"):
        push.message_stored(stored, anyone_wants_all=hint)
        await push.settled()
    await close_hub()
    remaining = await database_sync_to_async(lambda: list(PushSubscription.objects.values_list("endpoint", flat=True)))()
    assert remaining == [unreachable]
    failures = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(failures) == 2 and all(record.exc_info is None for record in failures)
    assert "ConnectionError" in caplog.text and "forgotten (its keys encrypt nothing)" in caplog.text


async def test_endpoints_on_this_servers_own_network_are_never_posted_to(
    user, other_user, vapid_keys, caplog, monkeypatch
):
    """A user names the endpoint: the server must not be made to post to a
    private, loopback or link-local address (its own network, a cloud's
    metadata service). Such subscriptions are forgotten without a request."""
    vapid_keys.CHAT_PUSH_ALLOW_HTTP = False
    vapid_keys.DEBUG = False
    posted = []
    monkeypatch.setattr(push, "webpush", lambda **kwargs: posted.append(kwargs))
    await database_sync_to_async(room_join)(user=user, name="lobby")
    inside = ["https://10.1.2.3/push", "https://127.0.0.1:8443/push", "https://169.254.169.254/latest",
              "https://[::1]/push", "https://localhost/push"]
    for endpoint in inside:
        await database_sync_to_async(subscribe)(other_user, endpoint)
    stored, _, hint = await database_sync_to_async(message_store)(
        user=user, room="lobby", body="hi @bob", client_id="c1"
    )
    with caplog.at_level(logging.INFO, logger="chat.notifications.push"):
        push.message_stored(stored, anyone_wants_all=hint)
        await push.settled()
    await close_hub()
    assert posted == []
    assert await database_sync_to_async(PushSubscription.objects.count)() == 0
    assert caplog.text.count("not on the public internet") == len(inside)


async def test_mismatched_vapid_keys_push_nothing_and_say_so_once(user, other_user, vapid_keys, caplog, monkeypatch):
    vapid_keys.VAPID_PUBLIC_KEY = vapid.generate()[1]
    sent = []
    monkeypatch.setattr(push, "_send", lambda *args: sent.append(args))
    with caplog.at_level(logging.ERROR, logger="chat.notifications.push"):
        for _ in range(2):
            push.message_stored(message(mentions=[2]), anyone_wants_all=False)
            await push.settled()
    assert sent == []
    assert caplog.text.count("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY") == 1


def test_the_server_starts_without_importing_pywebpush():
    # pywebpush (and aiohttp with it) is imported at the first push, not by every
    # process that starts: 0.1 to 0.45 s of each start here.
    import os
    import sys

    code = ("import config.asgi, chat.consumers, chat.notifications.push, chat.transport, sys; "
            "print(sorted(name for name in ('pywebpush', 'aiohttp') if name in sys.modules))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DJANGO_SECRET_KEY": "x" * 50}
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "[]", done.stdout


# ---- keys and the page ---------------------------------------------------------------


def test_generated_keys_make_a_pair_that_py_vapid_reads(tmp_path):
    private, public = vapid.generate()
    assert len(base64.urlsafe_b64decode(public + "==")) == 65
    assert vapid.matches(private, public) and not vapid.matches(private, vapid.generate()[1])
    assert vapid.write_pair(tmp_path) is True
    written = (tmp_path / vapid.PRIVATE_FILE).read_text().strip(), (tmp_path / vapid.PUBLIC_FILE).read_text().strip()
    assert vapid.matches(*written)
    assert (tmp_path / vapid.PRIVATE_FILE).stat().st_mode & 0o077 == 0
    assert vapid.write_pair(tmp_path) is False  # made once: subscriptions are bound to the public key
    assert ((tmp_path / vapid.PRIVATE_FILE).read_text().strip(), (tmp_path / vapid.PUBLIC_FILE).read_text().strip()) \
        == written
    with pytest.raises(ValueError):
        vapid._signer("not a key")


def test_the_page_carries_the_public_key_only_when_push_is_configured(settings):
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = "", ""
    assert 'name="vapid-public-key"' not in Client().get("/").content.decode()
    private, public = vapid.generate()
    settings.VAPID_PUBLIC_KEY = public  # one of the two is not enough
    assert 'name="vapid-public-key"' not in Client().get("/").content.decode()
    settings.VAPID_PRIVATE_KEY = private
    assert f'<meta name="vapid-public-key" content="{public}">' in Client().get("/").content.decode()


def test_levels_and_subscriptions_go_with_their_room_and_user(user, other_user):
    room_join(user=other_user, name="lobby")
    services.notify_level_set(user=other_user, room="lobby", level="all")
    subscribe(other_user)
    Room.objects.filter(name="lobby").delete()
    assert not NotifyLevel.objects.exists() and not Membership.objects.filter(user=other_user).exists()
    other_user.delete()
    assert not PushSubscription.objects.exists()


def test_make_makes_the_key_pair_once(tmp_path):
    """`make run` and `make dev` depend on var/'s pair: made the first time, then kept."""
    repo = Path(__file__).resolve().parents[3]
    var = f"var/vapid-test-{secrets.token_hex(4)}"  # under the repository, as var/ is
    target = f"{var}/{vapid.PRIVATE_FILE}"
    try:
        for _ in range(2):
            done = subprocess.run(["make", "--no-print-directory", f"VAR={var}", target], cwd=repo,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
            if _ == 0:
                pair = [(repo / var / name).read_text().strip() for name in (vapid.PRIVATE_FILE, vapid.PUBLIC_FILE)]
        assert "is up to date" in done.stdout
        assert vapid.matches(*pair)
        assert [(repo / var / name).read_text().strip() for name in (vapid.PRIVATE_FILE, vapid.PUBLIC_FILE)] == pair
        # Both servers start with the pair exported, unless the environment has a key of its own.
        for goal in ("run", "dev"):
            plan = subprocess.run(["make", "-n", "--no-print-directory", f"VAR={var}", goal], cwd=repo,
                                  capture_output=True, text=True, timeout=120).stdout
            assert f'export VAPID_PRIVATE_KEY="$(cat ../{var}/vapid-private-key)"' in plan
    finally:
        shutil.rmtree(repo / var, ignore_errors=True)
