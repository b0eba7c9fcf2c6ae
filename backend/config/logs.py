"""What a log line says about where it came from, and how it is written.

Each line carries the request or socket it belongs to, the user, and the room,
where they apply: the HTTP middleware below and the consumer set them in
context variables (a socket's requests run in tasks of its own, which copy the
context they were made in), and `ContextFilter`, on the handler, copies them
onto every record. `LOG_FORMAT=json` writes one JSON object a line with those
fields (python-json-logger); the plain format, `make run`'s default, leaves
them out.

`AccessLog` is Daphne's action logger when `ACCESS_LOG=1`: one line per HTTP
request and per socket event, through `logging` (so in JSON too); off by
default, since at a few thousand sockets they are most of the log.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from inspect import iscoroutinefunction

from asgiref.sync import markcoroutinefunction

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
socket_id: ContextVar[str | None] = ContextVar("socket_id", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
room: ContextVar[str | None] = ContextVar("room", default=None)
# The HTTP request being served: its user is read only if something already
# loaded it (no session lookup just to write a log line).
_request: ContextVar[object | None] = ContextVar("request", default=None)

_FIELDS = (("request_id", request_id), ("socket_id", socket_id), ("user_id", user_id), ("room", room))

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ContextFilter(logging.Filter):
    """Adds request_id, socket_id, user_id and room to a record, where set."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _FIELDS:
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        request = _request.get()
        if request is not None and not hasattr(record, "user_id"):
            user = getattr(request, "_cached_user", None)  # set once django.contrib.auth loaded it
            if user is not None and user.is_authenticated:
                record.user_id = user.pk
        return True


def logging_config(*, json: bool, level: str) -> dict:
    """Django's LOGGING: plain lines, or one JSON object a line."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json
        else {"format": PLAIN_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.logs.ContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.channels.server": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
        },
    }


# ---- HTTP requests ----------------------------------------------------------------

# A request id a proxy may hand on (X-Request-ID); anything else is replaced.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Names each HTTP request (the proxy's X-Request-ID, or a new id), for its log
    lines and in the answer's X-Request-ID."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    # The variables are not reset on the way out: Django logs a 4xx or 5xx
    # answer after the middleware returned, and under ASGI every request runs
    # in a task (a context) of its own anyway.

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        self._enter(request)
        return self._named(self.get_response(request))

    async def _acall(self, request):
        self._enter(request)
        return self._named(await self.get_response(request))

    @staticmethod
    def _enter(request) -> None:
        given = request.headers.get("X-Request-ID", "")
        request_id.set(given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16])
        _request.set(request)

    @staticmethod
    def _named(response):
        response["X-Request-ID"] = request_id.get()
        return response


# ---- sockets ------------------------------------------------------------------------


def bind_socket(*, conn: str, user: int) -> None:
    """From here on, this socket's task and the tasks it starts log as this socket."""
    socket_id.set(conn)
    user_id.set(user)


def bind_room(name: str | None) -> None:
    """The room of the frame being handled (None for a frame about no room)."""
    room.set(name)


# ---- Daphne's access lines (ACCESS_LOG=1) ---------------------------------------------

_access = logging.getLogger("chat.access")


class AccessLog:
    """Daphne's action logger interface, written through logging."""

    def __call__(self, protocol: str, action: str, details: dict) -> None:
        if protocol == "http" and action == "complete":
            _access.info(
                "%s %s %s", details.get("method"), details.get("path"), details.get("status"),
                extra={"client": details.get("client"), "method": details.get("method"), "path": details.get("path"),
                       "status": details.get("status"), "size": details.get("size")},
            )
        elif protocol == "websocket" and action in ("connected", "rejected", "disconnected"):
            _access.info("WS %s %s", action, details.get("path"),
                         extra={"client": details.get("client"), "path": details.get("path"), "event": action})
