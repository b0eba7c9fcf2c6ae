"""Runs one socket's requests: in order within a lane, lanes side by side.

A lane is a room: a `send` never overtakes the `join` before it, while a
`history` that waits on a stalled database does not hold up another room's
requests. A request about no room (`rooms`) is a barrier: it waits for every
request before it, so it sees what a `read` just sent did. Replies carry their
`ref`, so a client matches them whatever their order across lanes. (`ping`
waits for `settled()` outside the lanes: after what came before it, unless that
waits on a stalled dependency.)

At most `limit` requests of a socket are queued or running; `submit` waits for
a place, which stops the consumer taking further frames (and so, through the
transport's input flow control, stops reading the socket).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

BARRIER = "\0barrier"  # no room name can look like this


class Lanes:
    def __init__(self, limit: int):
        self._slots = asyncio.Semaphore(limit)
        self._tails: dict[str, asyncio.Task] = {}  # lane -> its last request
        self._tasks: set[asyncio.Task] = set()

    async def submit(self, lane: str | None, run: Callable[[], Awaitable[None]]) -> None:
        """Queues `run` behind the lane's earlier requests (all earlier requests when
        `lane` is None); returns once it is queued."""
        await self._slots.acquire()
        if lane is None:
            lane, previous = BARRIER, set(self._tasks)
        else:
            previous = {tail for tail in (self._tails.get(lane), self._tails.get(BARRIER)) if tail is not None}
        task = asyncio.create_task(self._after(previous, run))
        self._tails[lane] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(lane, done))

    @staticmethod
    async def _after(previous: set[asyncio.Task], run: Callable[[], Awaitable[None]]) -> None:
        if previous:
            # Waits without taking on their outcome: `run` reports its own errors.
            await asyncio.wait(previous)
        await run()

    def _finished(self, lane: str, task: asyncio.Task) -> None:
        self._slots.release()
        self._tasks.discard(task)
        if self._tails.get(lane) is task:
            del self._tails[lane]
        if not task.cancelled() and task.exception() is not None:
            # A request reports its own errors to its client; this is a bug in that.
            log.error("a request failed outside its handler", exc_info=task.exception())

    async def settled(self, timeout: float) -> None:
        """Returns once every request queued so far has finished, or after `timeout`."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def drain(self, timeout: float) -> None:
        """Lets queued requests finish (a stored `send` still fans out), then cancels
        whatever is left after `timeout` and waits for the cancellations to land."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        left = set(self._tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)
