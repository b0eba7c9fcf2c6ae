"""The channel-layer groups of the hub's one channel, kept in step with the
hub's members: which local sockets (or the process itself) want which group.

The channel is added to a group when it gets its first member here and
discarded from it when it loses its last. A failed add or discard is not
retried here: the hub's heartbeat re-adds every wanted group (`readd`), which
also heals a Redis restart and channels-redis' group_expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chat import deadlines
from chat.events import log_failure

if TYPE_CHECKING:
    from chat.hub import Subscriber

log = logging.getLogger(__name__)


class Groups:
    def __init__(self, layer: Any, *, members: dict[str, set[Subscriber]], failed: Callable[[], None]):
        self.layer = layer
        self.channel: str | None = None  # the hub's, once it is open
        self.members = members  # the hub's: group -> local sockets
        self.added: set[str] = set()  # groups our channel is in, as far as we know
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._failed = failed  # a layer call failed: the hub's heartbeat should come soon

    async def join(self, group: str, sub: Subscriber) -> None:
        self.members.setdefault(group, set()).add(sub)
        if self._in_step(group):
            return  # already in the group, and no add or discard of it under way
        # Shielded so a cancelled caller cannot leave the add half done.
        await asyncio.shield(self._sync_group(group))

    async def leave(self, group: str, sub: Subscriber) -> None:
        members = self.members.get(group)
        if members is None or sub not in members:
            return
        members.discard(sub)
        if not members:
            del self.members[group]
        elif self._in_step(group):
            return  # others still want the group, which is added, and nothing is under way
        await asyncio.shield(self._sync_group(group))

    async def readd(self) -> bool:
        """Adds the channel to every wanted group again; True if all worked."""
        healthy = True
        for group in list(self.members):
            async with self._group_lock(group):
                if self.members.get(group):
                    added = await self._layer_call("group_add", group)
                    healthy = healthy and added
                    if added:
                        self.added.add(group)
        return healthy

    async def discard_all(self) -> None:
        for group in list(self.added):
            await self._layer_call("group_discard", group)
        self.added.clear()

    def _in_step(self, group: str) -> bool:
        """The group is wanted and added, and no sync of it holds or awaits its lock:
        a sync would find nothing to do."""
        return group in self.added and group not in self._locks and bool(self.members.get(group))

    async def _sync_group(self, group: str) -> None:
        # Decided under the group's lock from the state at that moment, so a
        # discard and an add of one group never overtake each other in Redis.
        async with self._group_lock(group):
            wanted = bool(self.members.get(group))
            if wanted and group not in self.added:
                if await self._layer_call("group_add", group):
                    self.added.add(group)
            elif not wanted and group in self.added:
                self.added.discard(group)
                await self._layer_call("group_discard", group)

    @contextlib.asynccontextmanager
    async def _group_lock(self, group: str):
        lock, users = self._locks.get(group) or self._locks.setdefault(group, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:  # nobody holds or waits for it: forget it
                del self._locks[group]

    async def _layer_call(self, operation: str, group: str) -> bool:
        """`group_add` or `group_discard` of our channel; False if it failed."""
        try:
            await deadlines.redis(getattr(self.layer, operation)(group, self.channel), f"channel layer {operation}")
            return True
        except Exception as error:
            # The heartbeat re-adds every wanted group, so this heals by itself.
            log_failure(log, f"channel layer {operation}({group}) failed", error)
            self._failed()
            return False
