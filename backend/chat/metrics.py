"""This process's counters, in Prometheus' client library (web/metrics.py serves them).

The hooks are on the hot path of every frame, so each is a pre-bound child of
its metric (no label lookup by name per call), and deliveries are counted once
per fan-out, `inc(n)`, not once per socket. Gauges of state (open sockets,
presence entries) are read from the hub when scraped, costing nothing between
scrapes. With CHAT_METRICS=0 every metric here is a do-nothing stand-in, so
the cost of the counting itself can be measured (bench S1/S2 with and without).

A `send`'s latency is measured from the moment its frame was read
(`received`, kept in a context variable that the socket's request task copies)
to its `sent` going out, and to its `message` handed to the channel layer.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

ENABLED = settings.CHAT_METRICS

# Seconds: a database statement or Redis call takes about a millisecond; the
# deadlines (CHAT_DB_TIMEOUT, CHAT_REDIS_TIMEOUT) end the scale.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Off:
    """A metric, or a child of one, that counts nothing (CHAT_METRICS=0)."""

    def labels(self, *args, **kwargs):
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def observe(self, amount: float) -> None:
        pass

    def set_function(self, function) -> None:
        pass


def _metric(kind, name: str, documentation: str, labelnames: tuple[str, ...] = (), **kwargs):
    return kind(name, documentation, labelnames, **kwargs) if ENABLED else _Off()


FRAMES_IN = _metric(Counter, "chat_frames_in", "Frames read from sockets, by type ('invalid': refused by the parser).",
                    ("type",))
FRAMES_OUT = _metric(Counter, "chat_frames_out", "Frames sent to sockets, by type (answers and live frames).", ("type",))
DELIVERIES = _metric(Counter, "chat_deliveries", "Live frames handed to local sockets by the hub's fan-out.")
ERRORS = _metric(Counter, "chat_errors", "`error` frames sent, by code.", ("code",))
RATE_LIMITED = _metric(Counter, "chat_rate_limit_refusals",
                       "Refusals by a rate limit: `frame` (rate_limited answers), `socket` (4429).", ("limit",))
JOINS = _metric(Counter, "chat_joins", "Rooms joined by sockets.")
SLOW_CLOSES = _metric(Counter, "chat_slow_consumer_closes", "Sockets closed with 1013 for not reading their output.")
SEND_TO_SENT = _metric(Histogram, "chat_send_to_sent_seconds", "A send's frame read to its `sent` answer written.",
                       buckets=LATENCY_BUCKETS)
SEND_TO_FANOUT = _metric(Histogram, "chat_send_to_fanout_seconds",
                         "A send's frame read to its `message` handed to the channel layer.", buckets=LATENCY_BUCKETS)
DB_SECONDS = _metric(Histogram, "chat_db_call_seconds", "Database calls made by sockets (thread or event loop).",
                     buckets=LATENCY_BUCKETS)
REDIS_SECONDS = _metric(Histogram, "chat_redis_call_seconds", "Redis calls with a deadline (not the layer's receive).",
                        buckets=LATENCY_BUCKETS)
SOCKETS_OPEN = _metric(Gauge, "chat_sockets_open", "Authenticated sockets open on this process.")
PRESENCE_ENTRIES = _metric(Gauge, "chat_presence_entries", "(room, socket) presence entries this process keeps.")

_received_at: ContextVar[float | None] = ContextVar("received_at", default=None)

# Children bound once per label value: a dict lookup, no label parsing, per call.
_frames_in: dict[type | None, object] = {}
_frames_out: dict[str, object] = {}
_errors: dict[str, object] = {}
_RATE_FRAME = RATE_LIMITED.labels("frame")
_RATE_SOCKET = RATE_LIMITED.labels("socket")


def _child(cache: dict, key, metric, label: str):
    child = cache.get(key)
    if child is None:
        child = cache[key] = metric.labels(label)
    return child


# ---- hooks ----------------------------------------------------------------------


def received(frame: object | None) -> None:
    """A frame was read and parsed (None: it did not parse)."""
    if not ENABLED:
        return
    kind = type(frame) if frame is not None else None
    child = _frames_in.get(kind)
    if child is None:
        child = _child(_frames_in, kind, FRAMES_IN, kind.__name__.lower() if kind is not None else "invalid")
    child.inc()
    _received_at.set(time.perf_counter())


def answered(frame: dict) -> None:
    """A frame of this socket's own (an answer) went out."""
    if not ENABLED:
        return
    kind = frame["type"]
    _child(_frames_out, kind, FRAMES_OUT, kind).inc()
    if kind == "sent":
        _since_received(SEND_TO_SENT)
    elif kind == "error":
        code = frame.get("code", "")
        _child(_errors, code, ERRORS, code).inc()
        if code == "rate_limited":
            _RATE_FRAME.inc()


def fanned_out() -> None:
    """A stored message was handed to the channel layer (events.message_created)."""
    if ENABLED:
        _since_received(SEND_TO_FANOUT)


def delivered(kind: str, count: int) -> None:
    """The hub handed one live frame of `kind` to `count` local sockets."""
    if ENABLED and count:
        _child(_frames_out, kind, FRAMES_OUT, kind).inc(count)
        DELIVERIES.inc(count)


def socket_refused() -> None:
    """A socket over CHAT_MAX_SOCKETS_PER_USER (4429)."""
    _RATE_SOCKET.inc()


def _since_received(histogram) -> None:
    start = _received_at.get()
    if start is not None:
        histogram.observe(time.perf_counter() - start)


def watch_hubs(sockets, presence) -> None:
    """Open sockets and presence entries, read when scraped: `sockets()` and
    `presence()` count them over this process's hubs."""
    SOCKETS_OPEN.set_function(sockets)
    PRESENCE_ENTRIES.set_function(presence)
