"""What one socket may cost: a token per frame, typing throttled, rooms bounded.

Local to the socket (no Redis round trip per frame); the limits per user that
must hold across processes (sends, new rooms, sockets) live in chat/ratelimit.py
and chat/sockets.py.
"""

from __future__ import annotations

from django.conf import settings

from chat import timing
from chat.ratelimit import MemoryRateLimiter, Throttle, TokenBucket


class SocketLimits:
    def __init__(self):
        self.bucket = TokenBucket(rate=settings.CHAT_FRAME_RATE, burst=settings.CHAT_FRAME_BURST)
        self.typing_repeats = Throttle(interval=timing.TYPING_INTERVAL)
        self.typing_changes = MemoryRateLimiter(limit=timing.TYPING_CHANGES, window=1.0)
        self.max_rooms = settings.CHAT_MAX_ROOMS_PER_SOCKET

    def take_frame(self) -> bool:
        """Every frame takes a token; without one it is refused (`rate_limited`)."""
        return self.bucket.take()

    def may_join(self, *, rooms_held: int) -> bool:
        return rooms_held < self.max_rooms

    def typing_passes(self, *, room: str, active: bool, typing: bool) -> bool:
        """Whether a `typing` frame is passed on, given whether this socket is
        typing in the room now. A repeated `active: true` at most once a second
        per room; a change (start, stop) at most TYPING_CHANGES a second, but a
        stop after a start always, so no indicator is left on."""
        if active and typing:
            return self.typing_repeats.allow(room)
        if not active and typing:
            return True
        if not self.typing_changes.allow(room):
            return False
        if active:
            self.typing_repeats.allow(room)  # its repeats count from now
        return True
