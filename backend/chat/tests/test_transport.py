"""Our Daphne: flow control of one socket, the entry point's arguments, pinned versions."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twisted.python import log

from chat import serve, transport
from chat.closecodes import TRY_AGAIN_LATER
from chat.flow import INPUT_HIGH_WATER, SLOW_CLOSE_TIMEOUT, SocketFlow

BACKEND_DIR = Path(__file__).resolve().parents[2]


class FakeTransport:
    def __init__(self):
        self.reading = True

    def pauseProducing(self):  # noqa: N802
        self.reading = False

    def resumeProducing(self):  # noqa: N802
        self.reading = True


class FakeProtocol:
    client_addr = ["127.0.0.1", 1]

    def __init__(self):
        self.transport = FakeTransport()
        self.closed_with = None
        self.closeHandshakeTimeout = 1

    def serverClose(self, code=None):  # noqa: N802
        self.closed_with = code


def make(limit=1000, slow_after=0.05):
    protocol = FakeProtocol()
    return protocol, SocketFlow(protocol, buffer_limit=limit, slow_after=slow_after)


async def test_a_full_output_buffer_stops_reading_and_requests_until_it_drains():
    protocol, flow = make()
    flow.pauseProducing()
    flow.pauseProducing()  # Twisted repeats it on every write while full
    assert not protocol.transport.reading
    waiter = asyncio.create_task(flow.writable())
    await asyncio.sleep(0)
    assert not waiter.done()
    flow.resumeProducing()
    await asyncio.wait_for(waiter, 1)
    assert protocol.transport.reading
    await asyncio.sleep(0.1)
    assert protocol.closed_with is None  # drained in time: not closed


async def test_a_socket_that_does_not_drain_in_time_is_closed_with_1013():
    protocol, flow = make(slow_after=0.05)
    flow.pauseProducing()
    await asyncio.sleep(0.1)
    assert protocol.closed_with == TRY_AGAIN_LATER
    assert protocol.closeHandshakeTimeout == SLOW_CLOSE_TIMEOUT
    await asyncio.wait_for(flow.writable(), 1)  # nobody is left waiting on it


async def test_a_paused_socket_that_keeps_taking_frames_is_closed_at_once():
    protocol, flow = make(limit=1000, slow_after=60)
    flow.pauseProducing()  # within the write of a frame...
    flow.sent(5000)  # ...that this reports: it filled the buffer, and does not count as more
    assert protocol.closed_with is None
    flow.sent(600)
    assert protocol.closed_with is None
    flow.sent(600)
    assert protocol.closed_with == TRY_AGAIN_LATER


async def test_unread_input_past_the_high_mark_stops_reading_until_the_consumer_catches_up():
    protocol, flow = make()
    flow.received(INPUT_HIGH_WATER + 1)
    assert not protocol.transport.reading
    flow.consumed(INPUT_HIGH_WATER // 2)
    assert not protocol.transport.reading  # above the low mark still
    flow.consumed(INPUT_HIGH_WATER // 2)
    assert protocol.transport.reading


async def test_reading_resumes_only_when_neither_input_nor_output_holds_it():
    protocol, flow = make(slow_after=60)
    flow.pauseProducing()
    flow.received(INPUT_HIGH_WATER + 1)
    flow.resumeProducing()
    assert not protocol.transport.reading
    flow.consumed(INPUT_HIGH_WATER + 1)
    assert protocol.transport.reading


def test_the_entry_point_fills_in_our_defaults_and_keeps_the_callers():
    assert serve.arguments(["--bind", "::1", "--port", "8000"]) == [
        "--bind", "::1", "--port", "8000",
        "--websocket-max-message-size", str(serve.MESSAGE_CAP),
        "--websocket-max-frame-size", str(serve.FRAME_CAP),
        "config.asgi:application",
    ]
    given = ["--websocket-max-message-size", "99", "--websocket-max-frame-size", "9", "bench.tutorial_asgi:application"]
    assert serve.arguments(given) == given


# The entry point as `python -m chat.serve --help` runs it (up to argparse's exit), then
# the type of the loop Daphne made for the server.
LOOP_OF_A_SERVER_PROCESS = """
import runpy, sys
sys.argv = ["chat.serve", "--help"]
try:
    runpy.run_module("chat.serve", run_name="__main__")
except SystemExit:
    pass
import daphne.server
print(type(daphne.server.twisted_loop).__module__)
"""


def run_entry_point(setting, code):
    # In a process of its own: the loop policy is process-wide, and Daphne makes its loop at import.
    env = {key: value for key, value in os.environ.items() if key != "CHAT_EVENT_LOOP"}
    if setting is not None:
        env["CHAT_EVENT_LOOP"] = setting
    return subprocess.run([sys.executable, *code], cwd=BACKEND_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("setting, loop_module", [
    (None, "uvloop"), ("", "uvloop"), ("uvloop", "uvloop"), ("asyncio", "asyncio.unix_events"),
])
def test_the_server_runs_on_the_event_loop_chat_event_loop_names(setting, loop_module):
    run = run_entry_point(setting, ["-c", LOOP_OF_A_SERVER_PROCESS])
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == loop_module


def test_an_unknown_event_loop_setting_stops_the_server_with_a_clear_message():
    run = run_entry_point("trio", ["-m", "chat.serve", "--help"])
    assert run.returncode == 1
    assert run.stderr.strip() == "CHAT_EVENT_LOOP must be uvloop or asyncio, not 'trio'"


# A server's run up to Daphne's own (which would serve), then the collector's settings.
GC_OF_A_SERVER_PROCESS = """
import gc, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
import daphne.server
from chat import transport
daphne.server.Server.run = lambda self: None
transport.ChatServer.run(object.__new__(transport.ChatServer))
print(gc.get_threshold(), gc.get_freeze_count() > 10_000)
"""


def test_a_server_freezes_what_it_loaded_and_collects_garbage_less_often():
    # In a process of its own: the collector's settings are process-wide.
    run = run_entry_point(None, ["-c", GC_OF_A_SERVER_PROCESS])
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == f"{transport.GC_THRESHOLD} True"


def test_a_daphne_we_were_not_written_against_stops_the_server(monkeypatch):
    transport.check_versions()  # what is installed is what is pinned
    monkeypatch.setitem(transport.TESTED_VERSIONS, "daphne", "0.0.1")
    with pytest.raises(RuntimeError, match="daphne 0.0.1"):
        transport.check_versions()


# ---- the write-through (ChatWebSocketProtocol._write_through) -------------------


class WireTransport:
    """The attributes of Twisted's TCP transport that the write-through reads, on a real socket."""

    def __init__(self, sock):
        self.socket = sock
        self.dataBuffer = b""
        self._tempDataBuffer = []
        self.connected = True
        self.disconnecting = False
        self._writeDisconnected = False


def wired(send_buffer=None):
    import socket
    from types import SimpleNamespace

    ours, theirs = socket.socketpair()
    if send_buffer:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    ours.setblocking(False)
    buffered = []
    protocol = SimpleNamespace(transport=WireTransport(ours), _buffered_write=buffered.append)
    return protocol, buffered, ours, theirs


def drain(sock) -> bytes:
    sock.setblocking(False)
    out = b""
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk


def write(protocol, data: bytes) -> None:
    transport.ChatWebSocketProtocol._write_through(protocol, data)


def test_a_frame_goes_straight_to_the_socket_when_nothing_waits_before_it():
    protocol, buffered, ours, theirs = wired()
    write(protocol, b"frame one")
    write(protocol, b"frame two")
    assert buffered == []  # Twisted's buffer was never involved
    assert drain(theirs) == b"frame oneframe two"


def test_a_frame_waits_behind_what_twisted_still_buffers_and_when_the_connection_is_going():
    protocol, buffered, ours, theirs = wired()
    protocol.transport._tempDataBuffer = [b"earlier"]
    write(protocol, b"later")
    assert buffered == [b"later"] and drain(theirs) == b""  # in order, after it
    protocol.transport._tempDataBuffer = []
    protocol.transport.disconnecting = True
    write(protocol, b"late")
    assert buffered == [b"later", b"late"] and drain(theirs) == b""


def test_what_the_kernel_does_not_take_goes_to_twisteds_buffer_in_order():
    protocol, buffered, ours, theirs = wired(send_buffer=4096)
    data = bytes(range(256)) * 4096  # 1 MiB: far more than the socket takes at once
    write(protocol, data)
    assert len(buffered) == 1 and 0 < len(buffered[0]) < len(data)
    received = drain(theirs)
    assert received + buffered[0] == data


# ---- the read (ChatWebSocketProtocol._read_some) ----------------------------------


class RecordingSocket:
    """A real socket that notes how many bytes each recv asked for."""

    def __init__(self, sock):
        self.sock = sock
        self.asked: list[int] = []

    def recv(self, size):
        self.asked.append(size)
        return self.sock.recv(size)


def test_a_read_takes_read_bytes_at_most_not_the_output_limit_and_hands_data_on_in_order():
    import threading

    from twisted.internet import main

    protocol, _, ours, theirs = wired()
    recording = RecordingSocket(ours)
    received = []
    protocol.transport.socket = recording
    protocol.transport.bufferSize = 1024 * 1024  # what connectionMade sets, for the producer's sake
    protocol.transport._dataReceived = lambda data: received.append(data) if data else main.CONNECTION_DONE
    data = bytes(range(256)) * 1024  # 256 KiB: several reads, more than the socket pair holds
    sender = threading.Thread(target=theirs.sendall, args=(data,))
    sender.start()
    while sum(map(len, received)) < len(data):
        assert transport.ChatWebSocketProtocol._read_some(protocol) is None
    sender.join()
    assert b"".join(received) == data
    assert set(recording.asked) == {transport.READ_BYTES} and transport.READ_BYTES < protocol.transport.bufferSize
    # Nothing to read yet: no error, nothing handed on; the peer gone: Twisted's "done".
    assert transport.ChatWebSocketProtocol._read_some(protocol) is None and b"".join(received) == data
    theirs.close()
    assert transport.ChatWebSocketProtocol._read_some(protocol) is main.CONNECTION_DONE


def test_autobahns_debug_arguments_are_not_formatted_unless_it_logs_at_debug(monkeypatch):
    import txaio
    from autobahn import util
    from autobahn.twisted import websocket as twisted_websocket
    from autobahn.websocket import protocol as websocket_protocol

    for module in (websocket_protocol, twisted_websocket):
        monkeypatch.setattr(module, "hltype", util.hltype)
        monkeypatch.setattr(module, "hlval", util.hlval)
    monkeypatch.setattr(websocket_protocol, "pformat", websocket_protocol.pformat)
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "debug")
    transport.skip_autobahn_debug_formatting()
    assert twisted_websocket.hltype is util.hltype  # logging at debug: left alone

    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "info")
    transport.skip_autobahn_debug_formatting()
    value = object()
    for module in (websocket_protocol, twisted_websocket):
        assert module.hltype(value) is value and module.hlval(value, color="green") is value
    assert websocket_protocol.pformat([("openHandshakeTimeout", 5, "Factory")]) == ""


def test_reactor_callbacks_run_without_twisteds_log_context_and_failures_are_still_logged(monkeypatch):
    from twisted.internet import asyncioreactor
    from twisted.logger import globalLogPublisher

    monkeypatch.setattr(asyncioreactor, "callWithLogger", asyncioreactor.callWithLogger)
    transport.skip_twisted_log_context()
    assert asyncioreactor.callWithLogger is not log.callWithLogger

    class Selectable:
        def logPrefix(self):  # noqa: N802
            raise AssertionError("the log prefix is not built")

    assert asyncioreactor.callWithLogger(Selectable(), lambda a, b=0: a + b, 1, b=2) == 3

    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        def fails():
            raise ValueError("doRead broke")

        assert asyncioreactor.callWithLogger(Selectable(), fails) is None
    finally:
        globalLogPublisher.removeObserver(logged.append)
    failures = [event for event in logged if event.get("isError")]
    assert len(failures) == 1
    assert failures[0]["failure"].check(ValueError)
    assert failures[0]["log_system"] == "Selectable callback"
