"""Our Daphne: one explicit subclass of its server and of its WebSocket protocol.

Started by `python -m chat.serve` (make run, make dev, the compose file, the
tests); a plain `daphne config.asgi:application` still serves the app, only
without what is here. What the subclasses add, all per socket:

- **Flow control and bounded input** (chat/flow.py, `SocketFlow`, one per
  socket, the transport's streaming producer): past CHAT_SOCKET_BUFFER_BYTES
  unsent, or past INPUT_HIGH_WATER read and not yet taken, the socket is not
  read and the consumer takes no new request; a socket that does not drain
  within CHAT_SLOW_CLIENT_SECONDS is closed with 1013. Writes never wait.
  The kernel's send buffer of each socket is capped as well
  (KERNEL_SEND_BUFFER).
- **Close codes.** Daphne hands an application's close code to autobahn's
  `sendClose`, which refuses 1009, 1012 and 1013; those are sent as the close
  frame `sendClose` itself would send.
- A frame for a socket that is already closing is dropped quietly instead of
  raising into the hub's fan-out.
- **Writes through.** A frame goes straight to the socket when nothing waits
  unsent before it; only what the kernel does not take enters Twisted's
  buffer (whose size flow control watches). Twisted's own write buffers every
  frame and sends it on the loop's next turn, registering and unregistering
  the socket for writing around it, which was half of a delivery's cost.
- **No debug formatting.** autobahn formats the arguments of its debug lines
  even when they are not logged; that is skipped unless it logs at debug.
- **Bounded HTTP bodies** (chat/httpbody.py): a request body over the upload
  limit is answered 413 before it is read, not spooled to disk first.

The versions these hooks were written against are pinned in pyproject.toml and
checked at start (check_versions): a different Daphne or autobahn stops the
server instead of misbehaving quietly.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from importlib.metadata import version

from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import defer, main, tcp
from twisted.python import log as twisted_log

from chat.closecodes import MESSAGE_TOO_BIG, SERVICE_RESTART, TRY_AGAIN_LATER
from chat.flow import SocketFlow

log = logging.getLogger(__name__)

# What the subclasses below rely on; pyproject.toml pins the same.
TESTED_VERSIONS = {"daphne": "4.2.3", "autobahn": "26.10.2", "twisted": "26.10.0"}

# Codes the server uses that autobahn's sendClose refuses from an application.
PROTOCOL_CLOSE_CODES = {MESSAGE_TOO_BIG: b"message too big", SERVICE_RESTART: b"service restart",
                        TRY_AGAIN_LATER: b"too slow: reconnect and catch up"}

# The kernel's send buffer of a socket. Left alone, Linux grows it to 4 MiB per
# socket, memory that no limit of ours sees; this much still fills a link of
# 20 MB/s at 100 ms round trip, far beyond what a chat socket needs.
KERNEL_SEND_BUFFER = 256 * 1024

# Bytes a socket's read takes at most: Twisted's default. connectionMade
# raises the transport's bufferSize to the socket's output limit (1 MiB), the
# mark at which Twisted pauses its producer, and Twisted also reads that many
# bytes at a time: a 1 MiB bytes object per read of a 200-byte frame, which
# glibc serves with mmap, mremap and munmap (three system calls and a page
# fault per frame read; bench S1, strace).
READ_BYTES = 64 * 1024

FLOW_EXTENSION = "chat.flow"
# An HTTP request's peer as the connection has it, whatever X-Forwarded-For says
# (Daphne's `client` with --proxy-headers): web/metrics.py decides by it.
PEER_EXTENSION = "chat.peer"


def skip_autobahn_debug_formatting() -> None:
    """autobahn builds the arguments of its debug lines whether or not debug is
    logged: a pretty-printed dump of every protocol option at each connection,
    and click-coloured names and values at each frame read and written (about
    2 % of a fan-out's CPU). Unless autobahn logs at debug, those helpers give
    back what they were given, and the dump is empty. (autobahn's `Timings`,
    which we never turn on, would print empty too.)"""
    import txaio
    from autobahn.twisted import websocket as twisted_websocket
    from autobahn.websocket import protocol as websocket_protocol

    if txaio.get_global_log_level() in ("debug", "trace"):
        return
    for module in (websocket_protocol, twisted_websocket):
        module.hltype = module.hlval = _as_given
    websocket_protocol.pformat = _nothing


def skip_twisted_log_context() -> None:
    """Twisted's asyncio reactor runs every read and write callback through
    log.callWithLogger: the selectable's logPrefix(), a copy of the log context
    and a context switch, only so that a legacy log line written meanwhile is
    prefixed with the connection's name. That was 5-6 % of S1's server CPU. The
    callbacks it wraps (the reactor's _readOrWrite) already catch and log a
    failing doRead/doWrite; what is left is logged here, as callWithLogger would,
    without the prefix. Takes effect for readers and writers added after it (the
    server calls it before it listens)."""
    from twisted.internet import asyncioreactor

    asyncioreactor.callWithLogger = _call_logging_failures


def _call_logging_failures(logger, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException:
        twisted_log.err(system=f"{type(logger).__name__} callback")


def _as_given(value, *args, **kwargs):
    return value


def _nothing(value, *args, **kwargs) -> str:
    return ""


async def _open_hub() -> None:
    from chat.hub import get_hub

    try:
        await get_hub().open()
    except Exception:
        log.exception("starting the hub failed; the first socket tries again")


def check_versions() -> None:
    for package, tested in TESTED_VERSIONS.items():
        installed = version(package)
        if installed != tested:
            raise RuntimeError(
                f"chat.transport was written against {package} {tested}, but {installed} is installed: "
                f"check the hooks in backend/chat/transport.py against it, then update TESTED_VERSIONS and pyproject.toml"
            )


class ChatWebSocketProtocol(WebSocketProtocol):
    flow: SocketFlow | None = None

    def connectionMade(self):  # noqa: N802 - Twisted's interface
        super().connectionMade()
        server = self.factory.server_class
        self.flow = SocketFlow(self, buffer_limit=server.socket_buffer_bytes, slow_after=server.slow_client_seconds)
        transport = self.transport
        # The HTTP channel that upgraded the connection is still registered as
        # the transport's producer; the socket is ours now.
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        transport.bufferSize = server.socket_buffer_bytes
        sock = getattr(transport, "socket", None)
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        transport.registerProducer(self.flow, True)
        if type(transport) is tcp.Server:  # plain TCP: not TLS, whose bytes are not the frame's
            self._buffered_write = transport.write
            transport.write = self._write_through
            transport.doRead = self._read_some

    def _write_through(self, data: bytes) -> None:
        """The transport's write: straight to the socket when nothing waits to be
        sent before it, Twisted's buffer for whatever the kernel does not take.

        Twisted's own write only buffers and registers the socket for writing;
        the next turn of the loop sends and unregisters it: two epoll_ctl calls
        and a turn per frame, most of a fan-out's cost per socket.
        """
        transport = self.transport
        if (transport.dataBuffer or transport._tempDataBuffer or not transport.connected
                or transport.disconnecting or transport._writeDisconnected or not data):
            self._buffered_write(data)
            return
        try:
            sent = transport.socket.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._buffered_write(data)  # Twisted meets the error on its own write and closes
            return
        if sent < len(data):
            self._buffered_write(data[sent:])

    def _read_some(self):
        """The transport's doRead (Twisted's own), reading READ_BYTES at most."""
        transport = self.transport
        try:
            data = transport.socket.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return main.CONNECTION_LOST
        return transport._dataReceived(data)

    def onMessage(self, payload, isBinary):  # noqa: N802 - autobahn's interface
        super().onMessage(payload, isBinary)
        self.flow.received(len(payload))

    def onClose(self, wasClean, code, reason):  # noqa: N802
        if self.flow is not None:
            self.flow.close()
        if self.transport is not None and "write" in vars(self.transport):
            del self.transport.write, self.transport.doRead  # no cycle through the transport
        super().onClose(wasClean, code, reason)

    def serverSend(self, content, binary=False):  # noqa: N802 - Daphne's interface
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            # The socket is going: a frame fanned out in that moment can only fail
            # (autobahn raises Disconnected); the client catches up by `since`.
            return
        super().serverSend(content, binary)
        self.flow.sent(len(content))

    def serverClose(self, code=None):  # noqa: N802
        reason = PROTOCOL_CLOSE_CODES.get(code)
        if reason is not None:
            self.sendCloseFrame(code=code, reasonUtf8=reason, isReply=False)
        else:
            super().serverClose(code)


# Python's cyclic garbage collector runs after every 700 new container objects
# (gen0), and a full pass walks every object of the process. A socket's
# handshake alone leaves about 25 objects in cycles (Twisted's HTTP channel and
# request) and a server with thousands of sockets holds millions of objects:
# with the defaults, a 2,000-socket connect storm spent a tenth of its server
# CPU in the collector, in pauses of up to half a second (bench S4). What is
# loaded before serving (Django, the apps, the modules) lives as long as the
# process, so it is frozen out of every pass, and the young generation is
# collected after GC_THRESHOLD[0] allocations, not 700.
GC_THRESHOLD = (10_000, 10, 10)


def collect_garbage_less() -> None:
    """Freezes what is loaded so far and collects less often (see GC_THRESHOLD)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


class ChatServer(Server):
    """Daphne's server with our WebSocket protocol, each socket's flow in its scope,
    access lines through logging (ACCESS_LOG) and a graceful stop (chat/drain.py)."""

    def __init__(self, *args, socket_buffer_bytes: int | None = None, slow_client_seconds: float | None = None,
                 drain_seconds: float | None = None, **kwargs):
        from django.conf import settings

        from config.logs import AccessLog

        check_versions()
        skip_autobahn_debug_formatting()
        skip_twisted_log_context()
        super().__init__(*args, **kwargs)
        self.socket_buffer_bytes = socket_buffer_bytes or settings.CHAT_SOCKET_BUFFER_BYTES
        self.slow_client_seconds = slow_client_seconds or settings.CHAT_SLOW_CLIENT_SECONDS
        self.drain_seconds = settings.CHAT_DRAIN_SECONDS if drain_seconds is None else drain_seconds
        # Daphne writes its own lines to stdout by default; ours go through logging, when asked for.
        self.action_logger = AccessLog() if settings.ACCESS_LOG else None
        self.ports = []
        self._hub_start: asyncio.Future | None = None

    def run(self):
        from twisted.internet import reactor

        # The hub starts with the server, not with its first socket: from now
        # on the process counts in the channel layer's `processes` group, so a
        # process stopping next to it spreads its closes (chat/drain.py).
        from chat import pgpool

        pgpool.check_settings()  # a database option asyncpg cannot honour stops the server here
        reactor.callLater(0, self._start_hub)
        collect_garbage_less()
        super().run()

    def _start_hub(self) -> None:
        self._hub_start = asyncio.ensure_future(_open_hub())  # held here until it is done

    def listen_success(self, port):
        super().listen_success(port)
        self.ports.append(port)

    def kill_all_applications(self):
        """Daphne's "before shutdown" trigger: drain first (chat/drain.py), then
        Daphne cancels what is left."""
        return defer.Deferred.fromFuture(asyncio.ensure_future(self._stop_gracefully()))

    async def _stop_gracefully(self) -> None:
        from chat import drain

        for port in self.ports:
            port.stopListening()
        applications = [details["application_instance"] for details in list(self.connections.values())
                        if "application_instance" in details]
        try:
            await drain.drain(seconds=self.drain_seconds, applications=applications)
        except Exception:
            log.exception("the graceful stop failed; stopping at once")
        await defer.Deferred.asFuture(super().kill_all_applications(), asyncio.get_running_loop())

    # Daphne makes its WebSocket factory inside run(); this is where it is handed
    # over, so the factory builds our protocol from the first connection on.
    @property
    def ws_factory(self):
        return self.__dict__.get("_ws_factory")

    @ws_factory.setter
    def ws_factory(self, factory):
        factory.protocol = ChatWebSocketProtocol
        # An oversized frame gets a close frame with 1009 rather than a dropped connection.
        factory.setProtocolOptions(failByDrop=False)
        self._ws_factory = factory

    # Likewise for the HTTP factory: its requests stop reading an over-long body (chat/httpbody.py).
    @property
    def http_factory(self):
        return self.__dict__.get("_http_factory")

    @http_factory.setter
    def http_factory(self, factory):
        from chat.httpbody import BoundedHTTPFactory

        self._http_factory = factory if isinstance(factory, BoundedHTTPFactory) else BoundedHTTPFactory(self)

    def create_application(self, protocol, scope):
        if isinstance(protocol, ChatWebSocketProtocol):
            scope["extensions"] = {**scope.get("extensions", {}), FLOW_EXTENSION: protocol.flow}
        elif scope.get("type") == "http":
            peer = getattr(getattr(protocol, "client", None), "host", None)  # Twisted's address of the connection
            scope["extensions"] = {**scope.get("extensions", {}), PEER_EXTENSION: peer}
        return super().create_application(protocol, scope)
