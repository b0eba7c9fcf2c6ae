"""Who is in which room: one store interface, an in-memory and a Redis backend.

Without REDIS_URL presence lives in this process (one server process); with it,
every process shares it through Redis. REDIS_URLS with several servers spreads
the rooms over them (sharded.py). rooms.py is a process's side of it: its
sockets counted in the store, and the announcements that causes.
"""

from django.conf import settings

from chat import timing
from chat.redis import per_loop_cache, shard_urls

from .base import PresenceEntry, PresenceStore, User
from .memory import MemoryPresenceStore

__all__ = ["PresenceEntry", "PresenceStore", "User", "get_presence_store"]


# Every process sweeps every PRESENCE_SWEEP_INTERVAL; a Redis is swept by the
# first of them once this much has passed since its last sweep (a little under
# the interval, so a lone process's timer never finds it not yet due).
SWEEP_GAP = timing.PRESENCE_SWEEP_INTERVAL * 0.8


def get_presence_store() -> PresenceStore:
    """The store for the running event loop (and the current settings)."""
    urls, ttl = tuple(shard_urls()), float(settings.CHAT_PRESENCE_TTL)
    stores = per_loop_cache("presence")
    store = stores.get((urls, ttl))
    if store is None:
        if len(urls) > 1:
            from .redis import RedisPresenceStore
            from .sharded import ShardedPresenceStore

            store = ShardedPresenceStore([RedisPresenceStore(url=url, ttl=ttl, sweep_gap=SWEEP_GAP) for url in urls])
        elif urls:
            from .redis import RedisPresenceStore

            store = RedisPresenceStore(url=urls[0], ttl=ttl, sweep_gap=SWEEP_GAP)
        else:
            store = MemoryPresenceStore(ttl=ttl)
        stores[(urls, ttl)] = store
    return store
