"""Who is in which room: one store interface, an in-memory and a Redis backend.

Without REDIS_URL presence lives in this process (one server process); with it,
every process shares it through Redis.
"""

from django.conf import settings

from chat.redis import per_loop_cache

from .base import PresenceEntry, PresenceStore, User
from .memory import MemoryPresenceStore

__all__ = ["PresenceEntry", "PresenceStore", "User", "get_presence_store"]


def get_presence_store() -> PresenceStore:
    """The store for the running event loop (and the current settings)."""
    url, ttl = settings.REDIS_URL, float(settings.CHAT_PRESENCE_TTL)
    stores = per_loop_cache("presence")
    store = stores.get((url, ttl))
    if store is None:
        if url:
            from .redis import RedisPresenceStore

            store = RedisPresenceStore(url=url, ttl=ttl)
        else:
            store = MemoryPresenceStore(ttl=ttl)
        stores[(url, ttl)] = store
    return store
