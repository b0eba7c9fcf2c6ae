"""Web Push of new messages, in the background of the process that stored them.

After a `send` has been answered and fanned out, the consumer hands the stored
message here (`message_stored`). Most messages end right there, decided from
what the send already knows: nobody is mentioned, the room is not a dm, and
the send's own statement found nobody in the room with the level "all" and a
subscription (services.SendStatement). Otherwise a background task asks the
database whom the message is for (selectors.push_targets), drops the users
present in the room (a socket of theirs joined it, on any process: the hub's
presence store), and sends each remaining subscription its encrypted payload
through pywebpush in a small thread pool, each within PUSH_TIMEOUT. Nothing
here is retried or raised: a failed push is logged in one line, and a
subscription the push service calls gone (404, 410) is forgotten.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from django.conf import settings

from chat import events, frames, timing
from chat.deadlines import db
from chat.hub import get_hub
from chat.models import DM_PREFIX
from chat.notifications import selectors, services, vapid
from chat.selectors import MessageDict

log = logging.getLogger(__name__)

# Characters of the body a push carries (the contract's 200).
BODY_EXCERPT = 200
# Pushes sent at once by a process; each mostly waits on the push service.
SENDING_THREADS = 4
# Pushes waiting for a thread; past it new ones are dropped (and logged), so a
# stalled push service cannot pile up memory.
MAX_WAITING = 1000
# Push services forget a subscription for good with these.
GONE = (404, 410)
# What _send says of a subscription whose keys encrypt nothing (a p256dh that
# is no point of the curve): it can never take a push either.
UNUSABLE = -1

_executor = ThreadPoolExecutor(max_workers=SENDING_THREADS, thread_name_prefix="webpush")
_tasks: set[asyncio.Task] = set()
_waiting = 0
_sessions = threading.local()


def message_stored(message: MessageDict, *, anyone_wants_all: bool) -> None:
    """The process that stored `message` calls this once `sent` is out. Starts
    the pushes in the background when anyone could want them: a mention of
    someone else, a dm room, or (`anyone_wants_all`, from the send's statement)
    someone with the level "all" and a subscription. Never raises; never waits."""
    if not vapid.configured():
        return
    author_id = message["author"]["id"]
    mentions_others = any(user_id != author_id for user_id in message["mentions"])
    if not (mentions_others or anyone_wants_all or message["room"].startswith(DM_PREFIX)):
        return
    task = asyncio.get_running_loop().create_task(_push_message(message))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def settled() -> None:
    """Waits for the background pushes started so far (tests)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def _push_message(message: MessageDict) -> None:
    room, seq = message["room"], message["seq"]
    if not _keys_usable(settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY):
        return
    try:
        kind, targets = await db(selectors.push_targets)(
            room=room, author_id=message["author"]["id"], mentions=message["mentions"]
        )
        if not targets:
            return
        present = await get_hub().presence.present_user_ids(room)
        targets = [target for target in targets if target.user_id not in present]
        if not targets:
            return
        payload = json.dumps(
            {"room": room, "seq": seq, "author": message["author"], "body": message["body"][:BODY_EXCERPT],
             "kind": kind},
            separators=(",", ":"), ensure_ascii=False,
        )
        await asyncio.gather(*(_push(target, payload, dm=kind == "dm") for target in targets))
    except Exception as error:
        events.log_failure(log, f"pushes of {room} #{seq} failed", error)


async def _push(target: selectors.PushTarget, payload: str, *, dm: bool) -> None:
    global _waiting
    if _waiting >= MAX_WAITING:
        log.warning("push to %s dropped: %d pushes wait already", _host(target.endpoint), _waiting)
        return
    # Addressed to this user (a mention, a dm): the push service may wake the device for it.
    urgency = "high" if target.mentioned or dm else "normal"
    _waiting += 1
    try:
        status = await asyncio.get_running_loop().run_in_executor(
            _executor, functools.partial(_send, target, payload, urgency)
        )
    finally:
        _waiting -= 1
    if status in GONE or status == UNUSABLE:
        await db(services.subscription_forget)(subscription_id=target.subscription_id, endpoint=target.endpoint)
        log.info("push subscription %s forgotten (%s)", target.subscription_id,
                 "its keys encrypt nothing" if status == UNUSABLE else f"the push service answered {status}")


def webpush(**kwargs):
    """pywebpush's webpush, imported at the first push rather than at the
    process's start: pywebpush brings aiohttp, 0.1 to 0.45 s of every start
    (a restart, a test's server) here, and a process may never push."""
    from pywebpush import webpush as send

    return send(**kwargs)


def _send(target: selectors.PushTarget, payload: str, urgency: str) -> int | None:
    """One push, in a sending thread: the push service's status, None when it
    could not be reached. Failures are logged here, one line each."""
    from pywebpush import WebPushException

    host = _host(target.endpoint)
    if not _public(target.endpoint):
        log.warning("push to %s refused: the host is not on the public internet", host)
        return UNUSABLE
    try:
        response = webpush(
            subscription_info={"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=payload,
            vapid_private_key=vapid.signer(),
            vapid_claims={"sub": settings.VAPID_SUBJECT},  # a new dict: webpush adds aud and exp to it
            timeout=timing.PUSH_TIMEOUT,
            ttl=timing.PUSH_TTL,
            headers={"Urgency": urgency},
            requests_session=_session(),
        )
        return response.status_code
    except WebPushException as error:
        status = error.status_code
        if status not in GONE:
            log.warning("push to %s failed: %s", host, status or error.message)
        return status
    except requests.RequestException as error:  # unreachable, or no answer within PUSH_TIMEOUT
        log.warning("push to %s failed: %s: %s", host, type(error).__name__, error)
        return None
    except ValueError as error:  # the subscription's p256dh is no P-256 point (the server's key was checked)
        log.warning("push to %s failed: its keys encrypt nothing: %s", host, error)
        return UNUSABLE
    except Exception as error:  # anything else pywebpush may raise: logged, never raised
        log.warning("push to %s failed: %s: %s", host, type(error).__name__, error)
        return None


@functools.cache
def _keys_usable(private_key: str, public_key: str) -> bool:
    """Whether the VAPID settings make a pair; logged once per process when not."""
    try:
        if vapid.matches(private_key, public_key):
            return True
        log.error("no pushes: VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")
    except ValueError as error:
        log.error("no pushes: %s", error)
    return False


def _session() -> requests.Session:
    # One per sending thread: a push service's connection is kept between pushes.
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    return session


def _public(endpoint: str) -> bool:
    """Whether every address of the endpoint's host is a public one. A user
    names the endpoint, and the server posts to it: without this, anyone could
    make the server post to its own network (a database's HTTP port, a cloud's
    metadata address). Push services are on the public internet. Where plain
    http to loopback is allowed (DEBUG, CHAT_PUSH_ALLOW_HTTP: a push service of
    one's own, as the tests run), any address is. A name that does not
    resolve is left to the request, which fails and is logged. (A name that
    resolves elsewhere a moment later slips through; the payload is
    encrypted and the answer is only ever read for its status.)"""
    if frames.plain_http_allowed():
        return True
    url = urlsplit(endpoint)
    try:
        found = socket.getaddrinfo(url.hostname, url.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return True  # unresolvable: the request fails on its own, and is logged as such
    return all(ipaddress.ip_address(address[4][0].split("%")[0]).is_global for address in found)


def _host(endpoint: str) -> str:
    # An endpoint is a capability (whoever has it may push): logs name only its host.
    return urlsplit(endpoint).hostname or "?"
