"""The socket's Origin check: own hosts and dev origins in, everything else out."""

import pytest
from channels.testing import WebsocketCommunicator

from chat.origin import OriginCheck, origin_allowed


@pytest.fixture
def hosts(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["chat.example.com", ".example.org", "127.0.0.1", "[::1]"]
    settings.DEV_ORIGINS = ["http://localhost:5173"]
    return settings


@pytest.mark.parametrize(
    "origin",
    [
        "https://chat.example.com",
        "http://chat.example.com:8000",
        "https://example.org",
        "https://a.b.example.org",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
        "HTTPS://CHAT.EXAMPLE.COM",
        "http://localhost:5173",
    ],
)
def test_allowed(hosts, origin):
    assert origin_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://chat.example.com.evil.example",
        "https://evilchat.example.com",
        "null",
        "",
        "file://",
        "ftp://chat.example.com",
        "http://localhost:5174",  # dev origins match exactly
        "http://localhost",
        "http://chat.example.com/some/path",
        "http://[::1",
    ],
)
def test_refused(hosts, origin):
    assert not origin_allowed(origin)


def test_star_allows_any_host(hosts):
    hosts.ALLOWED_HOSTS = ["*"]
    assert origin_allowed("https://anything.example")


def test_debug_without_hosts_allows_local_names(settings):
    settings.DEBUG, settings.ALLOWED_HOSTS, settings.DEV_ORIGINS = True, [], []
    assert origin_allowed("http://localhost:3000")
    assert not origin_allowed("http://example.com")


async def accepting_app(scope, receive, send):
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    await receive()


async def handshake(headers):
    communicator = WebsocketCommunicator(OriginCheck(accepting_app), "/ws/", headers=headers)
    connected, code = await communicator.connect()
    await communicator.disconnect()
    return connected, code


async def test_middleware_refuses_before_accept(hosts):
    assert await handshake([(b"origin", b"https://evil.example")]) == (False, 1008)


async def test_middleware_lets_own_and_missing_origins_through(hosts):
    assert (await handshake([(b"origin", b"https://chat.example.com")]))[0]
    # Browsers always send Origin; only non-browser clients omit it.
    assert (await handshake([]))[0]
