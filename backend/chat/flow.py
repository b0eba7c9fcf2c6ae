"""One socket's flow control, between its Twisted transport and its consumer
(chat/transport.py's protocol makes one per socket).

Twisted buffers whatever is written to a transport. `SocketFlow` registers
with the transport as its streaming producer, so Twisted tells it when more
than CHAT_SOCKET_BUFFER_BYTES wait unsent (`pauseProducing`) and when all of
it went out (`resumeProducing`). While paused the socket's frames are not
read and the consumer takes no new request (it awaits `writable()`), so
requests cannot pile up answers. A socket that does not drain within
CHAT_SLOW_CLIENT_SECONDS, or takes the limit once more meanwhile (a busy
room's live frames), is closed with 1013; its client reconnects and catches
up from the store. Writes never wait, so other sockets of a room never wait
for a slow one. Frames read but not yet taken by the consumer are counted
too: past INPUT_HIGH_WATER the socket is not read until the consumer
catches up.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from chat.closecodes import TRY_AGAIN_LATER

if TYPE_CHECKING:
    from chat.transport import ChatWebSocketProtocol

log = logging.getLogger(__name__)

# Frames read but not yet taken by the consumer: past the high mark the socket is
# not read until the consumer is down to the low one (a few 64 KiB frames).
INPUT_HIGH_WATER = 256 * 1024
INPUT_LOW_WATER = 64 * 1024

# A paused socket that takes its buffer limit once more (live frames of its
# rooms) is closed at once rather than at the end of its grace time.
OVERFLOW_FACTOR = 1

# How long a slow client closed with 1013 has to read up to the close frame
# before the connection is dropped.
SLOW_CLOSE_TIMEOUT = 5.0


class SocketFlow:
    """One socket's flow control, between its Twisted transport and its consumer.

    The transport calls pauseProducing/resumeProducing/stopProducing (it is the
    transport's streaming producer); the protocol reports frames read and sent;
    the consumer reports frames taken and awaits `writable()`.
    """

    def __init__(self, protocol: ChatWebSocketProtocol, *, buffer_limit: int, slow_after: float):
        self._protocol = protocol
        self.buffer_limit = buffer_limit
        self.slow_after = slow_after
        self._paused: set[str] = set()  # why the socket is not read: "output", "input"
        self._writable = asyncio.Event()
        self._writable.set()
        self._inbound = 0
        self._sent_while_full = 0
        self._pausing = False
        self._slow_timer: asyncio.TimerHandle | None = None
        self.closed = False

    # ---- the consumer's side ----------------------------------------------------

    async def writable(self) -> None:
        """Returns once the socket's unsent output is under its limit (or it closed)."""
        await self._writable.wait()

    def consumed(self, size: int) -> None:
        """The consumer took a frame of `size` bytes."""
        self._inbound = max(0, self._inbound - size)
        if "input" in self._paused and self._inbound <= INPUT_LOW_WATER:
            self._resume_reading("input")

    def send_shared(self, text: str) -> bool:
        """Sends `text`, which the hub hands to many sockets, straight to this
        socket's protocol; False where there is no such path (the caller sends
        it the ASGI way).

        Past the ASGI send (Channels, then Daphne's reply dispatch) and with
        the WebSocket frame built once for all of a fan-out's sockets
        (autobahn's prepared message, the one it has for broadcasts): a
        delivery is one transport write.
        """
        protocol = self._protocol
        if protocol.state != protocol.STATE_OPEN:
            return True  # going or gone: as serverSend, nothing to send
        protocol.sendPreparedMessage(_prepared(protocol, text))
        self.sent(len(text))
        return True

    def send_text(self, text: str) -> bool:
        """Sends a frame of this socket's own (an answer) straight to its protocol,
        past the ASGI send, in order with it (Daphne's send does not queue)."""
        self._protocol.serverSend(text)
        return True

    # ---- the protocol's side ----------------------------------------------------

    def received(self, size: int) -> None:
        self._inbound += size
        if self._inbound > INPUT_HIGH_WATER:
            self._pause_reading("input")

    def sent(self, size: int) -> None:
        if self._pausing:  # this frame is the one that filled the buffer: what comes after counts
            self._pausing = False
        elif "output" in self._paused:
            self._sent_while_full += size
            if self._sent_while_full > OVERFLOW_FACTOR * self.buffer_limit:
                self._too_slow("its unsent output kept growing")

    # ---- the transport's side (IPushProducer) -----------------------------------

    def pauseProducing(self) -> None:  # noqa: N802 - Twisted's interface
        if "output" in self._paused or self.closed:
            return  # Twisted calls this on every write while the buffer is full
        self._writable.clear()
        self._pause_reading("output")
        self._sent_while_full = 0
        self._pausing = True  # called from within the write of the frame `sent` reports next
        self._slow_timer = asyncio.get_event_loop().call_later(
            self.slow_after, self._too_slow, f"its output did not drain within {self.slow_after:g} s"
        )

    def resumeProducing(self) -> None:  # noqa: N802
        self._cancel_timer()
        self._writable.set()
        self._resume_reading("output")

    def stopProducing(self) -> None:  # noqa: N802
        self.close()

    def close(self) -> None:
        """The connection is gone: release whoever waits."""
        self.closed = True
        self._cancel_timer()
        self._writable.set()

    # ---- internals ----------------------------------------------------------------

    def _pause_reading(self, reason: str) -> None:
        if not self._paused:
            self._protocol.transport.pauseProducing()  # stops reading the socket
        self._paused.add(reason)

    def _resume_reading(self, reason: str) -> None:
        if reason not in self._paused:
            return
        self._paused.discard(reason)
        if not self._paused and not self.closed:
            self._protocol.transport.resumeProducing()

    def _cancel_timer(self) -> None:
        if self._slow_timer is not None:
            self._slow_timer.cancel()
            self._slow_timer = None

    def _too_slow(self, why: str) -> None:
        self._cancel_timer()
        if self.closed:
            return
        log.info("closing a slow client (%s): %s", self._protocol.client_addr, why)
        from chat import metrics  # imported once Django's settings are (chat.serve imports this module first)

        metrics.SLOW_CLOSES.inc()
        # The close frame waits behind the unsent output (nothing is added to it
        # once the socket is closing): a client that reads again soon sees 1013;
        # one that does not is dropped when the close handshake times out, and
        # Twisted frees the buffer.
        self._protocol.closeHandshakeTimeout = SLOW_CLOSE_TIMEOUT
        self._protocol.serverClose(code=TRY_AGAIN_LATER)
        self.close()


# The frame of the text being fanned out: the hub hands one str object to every
# local socket of a room in turn, so its identity tells the next delivery of
# the same frame from a new one.
_last_prepared: tuple[str, object] | None = None


def _prepared(protocol: ChatWebSocketProtocol, text: str):
    global _last_prepared
    if _last_prepared is None or _last_prepared[0] is not text:
        _last_prepared = (text, protocol.factory.prepareMessage(text.encode("utf-8")))
    return _last_prepared[1]
