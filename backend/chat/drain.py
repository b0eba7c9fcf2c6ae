"""A graceful stop: what the server does between SIGTERM and exit.

Twisted turns SIGTERM (and SIGINT) into a reactor shutdown, and waits for the
Deferred of every "before shutdown" trigger; Daphne's trigger cancels every
application at once, which drops every socket (1006) and cuts off requests
half done. chat.transport.ChatServer's trigger runs `drain` first:

1. The listening ports close: new connections are refused, so the proxy sends
   them to another process (nginx: `proxy_next_upstream`). One that still
   arrives (over a connection the proxy kept open) is closed with 1012 at once.
2. The sockets are closed with 1012 ("service restart") one after the other,
   in random order, spread over CHAT_DRAIN_SECONDS, so their clients, which
   come back at once after a 1012, do not all land on the other processes in
   the same instant. When no other process shares the channel layer (the
   in-memory layer, or a lone process on Redis: nobody is listening to the
   `processes` group but this one) the spread spares nobody, since no client
   can be taken before this process's successor starts: they are all closed at
   once, and a restart (or Ctrl-C under `make run`) does not wait 5 s for
   nothing. Each socket first stops taking frames and lets the
   requests it took finish: a `send` read before the close is stored,
   answered `sent` and fanned out, then the close frame follows it.
3. Their clean-up (the socket registry) gets a moment to finish; Daphne's
   own trigger then cancels whatever is left. Their presence entries are not
   removed: the users are not leaving. Back on another process within the
   presence TTL, nobody sees them go; if they do not come back, the entries
   expire and a sweep announces the leave.

A client misses nothing meanwhile: it rejoins elsewhere with `since` and
resends what was not acknowledged, with the same client_id.
"""

from __future__ import annotations

import asyncio
import logging
import random

from chat import timing
from chat.hub import existing_hub

log = logging.getLogger(__name__)

# After the last close, how long the sockets' clean-up may take before Daphne
# cancels it (the close handshake, then presence and registry calls).
CLEAN_UP_GRACE = 5.0

_draining = False


def draining() -> bool:
    """True once the process is stopping: a new socket is closed with 1012."""
    return _draining


async def drain(*, seconds: float, applications: list[asyncio.Future]) -> None:
    """Closes this process's sockets with 1012 over `seconds`, then waits (a
    little) for `applications`, the server's running application instances."""
    global _draining
    _draining = True
    hub = existing_hub()
    if hub is not None:
        hub.presence.stopping = True  # presence entries outlive the closes (RoomPresence.exit)
    sockets = hub.local_sockets() if hub is not None else []
    random.shuffle(sockets)
    if sockets and await _alone(hub):
        seconds = 0.0  # no other process to spare: nobody can take them sooner
    log.info("stopping: closing %d sockets with 1012 over %g s", len(sockets), seconds)
    step = seconds / len(sockets) if sockets else 0.0
    start = _clock()
    closing = []
    for n, sub in enumerate(sockets):
        closing.append(asyncio.ensure_future(_restart(sub)))
        # Paced by the clock, not by sleeps of one step each: a busy loop wakes
        # late from every sleep, which would stretch the drain well past `seconds`.
        await _sleep(max(0.0, start + (n + 1) * step - _clock()))
    # Sockets that connected while the first ones closed (they passed the check
    # just before it turned on): they go too.
    first = set(sockets)
    late = [sub for sub in (hub.local_sockets() if hub is not None else []) if sub not in first]
    closing += [asyncio.ensure_future(_restart(sub)) for sub in late]
    if closing:
        await asyncio.wait(closing, timeout=timing.REQUEST_DRAIN_TIMEOUT + 1)
    pending = [app for app in applications if not app.done()]
    if pending:
        await asyncio.wait(pending, timeout=CLEAN_UP_GRACE)
    log.info("stopped: %d sockets closed for the restart", len(sockets) + len(late))


def _clock() -> float:
    return asyncio.get_running_loop().time()


_sleep = asyncio.sleep  # the pacing's clock and sleep: chat/tests/test_drain.py runs them on a clock of its own


async def _alone(hub) -> bool:
    """No other process shares the channel layer (the in-memory layer, or one
    process on Redis). Unknown (Redis does not answer): not alone, as the
    spread is the safe side."""
    try:
        others = await hub.other_processes()
    except Exception as error:
        log.warning("stopping: could not count the other processes (%s); spreading the closes", error)
        return False
    if others == 0:
        log.info("stopping: no other process shares the channel layer; closing the sockets at once")
    return others == 0


async def _restart(sub) -> None:
    try:
        await sub.restart()
    except Exception:
        log.exception("closing %s for the restart failed", getattr(sub, "conn", sub))
