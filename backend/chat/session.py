"""The socket's session and user, read once at the handshake.

Channels' AuthMiddlewareStack reads them too, but it also wraps the socket's
`send` so that a session modified during the connection gets saved: on every
outbound frame it asks the lazy session whether it changed. A chat socket
never changes its session, and that check was about a fifth of our cost per
delivered frame (backend/bench). This middleware leaves `send` alone.

On PostgreSQL it reads them on the event loop (chat/pgpool.py's connections,
within chat/store.py's deadline) for the plain cases, which are every
socket's handshake; Django's get_user in a database thread decides the rest.
"""

import functools
import logging
from collections import OrderedDict
from importlib import import_module
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.http.cookie import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from chat import deadlines, pgpool, store
from chat.events import log_failure

log = logging.getLogger(__name__)


def _session_user(session):
    # Django's own get_user: it checks the session's auth hash, so a logged-out
    # or password-changed session is anonymous here (and closed with 4401).
    return auth.get_user(SimpleNamespace(session=session))


_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
_DB_SESSIONS = "django.contrib.sessions.backends.db"


async def _session_user_on_the_loop(session):
    """`_session_user` on chat/pgpool.py's connections, no thread hop, where Django's
    answer is plain: the user when the session is stored, unexpired, names
    ModelBackend and an active user, and carries that user's current auth
    hash; anonymous when there is no such session, user or backend. Every
    other case (a hash that does not match, which Django answers by flushing
    the session or, for a rotated SECRET_KEY, re-keying it; another backend)
    is Django's get_user itself, in a thread.

    One read where this process has seen the session before: the session and
    the user it named then, together (a session's user never changes: logging
    in gives a new session key). Both rows are read fresh every time; the
    remembered id is only which user row to read along, and it must be the
    one the session names, or it is two reads after all.
    """
    key = session.session_key
    if key is None:
        return AnonymousUser()
    model, sql = auth.get_user_model(), _statements()
    now = timezone.now()
    remembered = _session_users.get(key)
    hint = remembered.user_id if remembered is not None else None
    if hint is not None:
        row = await store.read(sql.session_and_user, [hint, key, now], what="a session and its user")
    else:
        row = await store.read(sql.session, [key, now], what="a session")
    if row is None:  # no such session, or expired
        _session_users.pop(key, None)
        return AnonymousUser()
    # Asked again after the read: in a connect storm the sockets of one session
    # read it at once, and the first of them to be answered decodes it for all.
    decoded = _session_users.get(key)
    if decoded is not None and row[0] == decoded.text:
        data = decoded.data  # the same signed text as decoded before: the same data
        _session_users.move_to_end(key)
    else:
        data, decoded = session.decode(row[0]), None
    user_id, backend_path = data.get(auth.SESSION_KEY), data.get(auth.BACKEND_SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    if backend_path != _MODEL_BACKEND:
        return await deadlines.db(_session_user)(session)
    user_id = model._meta.pk.to_python(user_id)
    if decoded is None:  # before the user's read, which other sockets of the session would wait out
        _remember(key, _Remembered(user_id, row[0], data))
    if hint is not None and hint == user_id and row[1] is not None:
        user_row = row[1:]
    else:
        user_row = await store.read(sql.user, [user_id], what="a session's user")
        if user_row is None:
            return AnonymousUser()
    user = model.from_db("default", sql.user_fields, user_row)
    if not ModelBackend().user_can_authenticate(user):
        return AnonymousUser()
    session_hash = data.get(auth.HASH_SESSION_KEY)
    if session_hash and constant_time_compare(session_hash, user.get_session_auth_hash()):
        return user
    return await deadlines.db(_session_user)(session)


@functools.cache
def _statements() -> SimpleNamespace:
    """The handshake's reads, built once (the user model is known by then)."""
    model = auth.get_user_model()
    fields = model._meta.concrete_fields
    users, pk = model._meta.db_table, model._meta.pk.column
    sessions = Session._meta.db_table
    return SimpleNamespace(
        session=f"SELECT session_data FROM {sessions} WHERE session_key = %s AND expire_date > %s",
        user=f"SELECT {', '.join(field.column for field in fields)} FROM {users} WHERE {pk} = %s",
        session_and_user=(
            f"SELECT s.session_data, {', '.join('u.' + field.column for field in fields)} "
            f"FROM {sessions} s LEFT JOIN {users} u ON u.{pk} = %s WHERE s.session_key = %s AND s.expire_date > %s"
        ),
        user_fields=[field.attname for field in fields],
    )


class _Remembered(NamedTuple):
    user_id: object  # which user row to read with the session
    text: str  # the session's signed data as read then
    data: dict  # what it decoded to (read only): the same text decodes the same


# Session key -> what this process made of it last, for the sessions it saw
# last (a reconnect, another tab): which user row to read with the session,
# and its decoded data, which a session read again with the same text reuses
# (decoding checks the signature and parses JSON: about 50 µs). Remembered as
# soon as it is decoded, so that the other sockets of a session that connect
# meanwhile reuse it (in S4 about 1,750 of 2,000 sockets had decoded their
# session, and read its user apart, while the first was still being checked).
SESSION_USERS_REMEMBERED = 10_000
_session_users: OrderedDict[str, _Remembered] = OrderedDict()


def _remember(key: str, remembered: _Remembered) -> None:
    _session_users[key] = remembered
    _session_users.move_to_end(key)
    while len(_session_users) > SESSION_USERS_REMEMBERED:
        _session_users.popitem(last=False)


class SessionAuthMiddleware:
    """Sets scope["cookies"], scope["session"] and scope["user"] for a websocket."""

    def __init__(self, app):
        self.app = app
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        self.on_event_loop = settings.SESSION_ENGINE == _DB_SESSIONS and pgpool.on_event_loop()

    async def __call__(self, scope, receive, send):
        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies.update(parse_cookie(value.decode("latin1")))
        scope = dict(scope, cookies=cookies)
        scope["session"] = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        try:
            # In a database thread of its own (not Channels' one shared thread), with a
            # deadline: a stalled database must not hold every other handshake up.
            if self.on_event_loop:
                scope["user"] = await _session_user_on_the_loop(scope["session"])
            else:
                scope["user"] = await deadlines.db(_session_user)(scope["session"])
        except Exception as error:
            # The consumer closes such a socket with 1013 (try again later).
            log_failure(log, "could not read the session of a socket", error)
            scope["user"], scope["user_unavailable"] = None, True
        return await self.app(scope, receive, send)
