"""The socket's session and user, read once at the handshake.

Channels' AuthMiddlewareStack reads them too, but it also wraps the socket's
`send` so that a session modified during the connection gets saved: on every
outbound frame it asks the lazy session whether it changed. A chat socket
never changes its session, and that check was about a fifth of our cost per
delivered frame (backend/bench). This middleware leaves `send` alone.

On PostgreSQL it reads them on the event loop (chat/store.py's pool) for the
plain cases, which are every socket's handshake; Django's get_user in a
database thread decides the rest.
"""

import logging
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.http.cookie import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from chat import deadlines, store
from chat.events import log_failure

log = logging.getLogger(__name__)


def _session_user(session):
    # Django's own get_user: it checks the session's auth hash, so a logged-out
    # or password-changed session is anonymous here (and closed with 4401).
    return auth.get_user(SimpleNamespace(session=session))


_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
_DB_SESSIONS = "django.contrib.sessions.backends.db"


async def _session_user_on_the_loop(session):
    """`_session_user` in two reads on chat/store.py's pool, no thread hop,
    where Django's answer is plain: the user when the session is stored,
    unexpired, names ModelBackend and an active user, and carries that user's
    current auth hash; anonymous when there is no such session, user or
    backend. Every other case (a hash that does not match, which Django
    answers by flushing the session or, for a rotated SECRET_KEY, re-keying
    it; another backend) is Django's get_user itself, in a thread.
    """
    if session.session_key is None:
        return AnonymousUser()
    row = await store.read(
        f"SELECT session_data FROM {Session._meta.db_table} WHERE session_key = %s AND expire_date > %s",
        [session.session_key, timezone.now()], what="a session",
    )
    data = session.decode(row[0]) if row else {}
    user_id, backend_path = data.get(auth.SESSION_KEY), data.get(auth.BACKEND_SESSION_KEY)
    if user_id is None or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    if backend_path != _MODEL_BACKEND:
        return await deadlines.db(_session_user)(session)
    model = auth.get_user_model()
    fields = model._meta.concrete_fields
    columns = ", ".join(field.column for field in fields)
    row = await store.read(
        f"SELECT {columns} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s",
        [model._meta.pk.to_python(user_id)], what="a session's user",
    )
    if row is None:
        return AnonymousUser()
    user = model.from_db("default", [field.attname for field in fields], row)
    if not ModelBackend().user_can_authenticate(user):
        return AnonymousUser()
    session_hash = data.get(auth.HASH_SESSION_KEY)
    if session_hash and constant_time_compare(session_hash, user.get_session_auth_hash()):
        return user
    return await deadlines.db(_session_user)(session)


class SessionAuthMiddleware:
    """Sets scope["cookies"], scope["session"] and scope["user"] for a websocket."""

    def __init__(self, app):
        self.app = app
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore
        self.on_event_loop = settings.SESSION_ENGINE == _DB_SESSIONS and store.on_event_loop()

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
