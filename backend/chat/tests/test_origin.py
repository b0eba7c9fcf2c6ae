"""The socket's Origin check: the page's own origin and dev origins in, everything else out."""

import pytest
from channels.testing import WebsocketCommunicator

from chat.origin import OriginCheck, normalize, origin_allowed, page_origin


@pytest.fixture
def hosts(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["chat.example.com", ".example.org", "127.0.0.1", "[::1]"]
    settings.DEV_ORIGINS = ["http://localhost:5173"]
    settings.USE_X_FORWARDED_HOST = False
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.fixture
def behind_proxy(hosts):
    hosts.USE_X_FORWARDED_HOST = True
    hosts.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return hosts


def scope(host: str | None, scheme: str = "ws", **headers: str) -> dict:
    pairs = [(b"host", host.encode())] if host is not None else []
    pairs += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("HTTP://Chat.Example.COM:80", "http://chat.example.com"),
        ("https://chat.example.com:443/", "https://chat.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("", None),
        ("ftp://chat.example.com", None),
        ("http://chat.example.com/some/path", None),
        ("http://user@chat.example.com", None),
        ("http://[::1", None),
        ("http://chat.example.com:99999", None),
    ],
)
def test_normalize(origin, expected):
    assert normalize(origin) == expected


@pytest.mark.parametrize(
    ("origin", "request_scope"),
    [
        ("http://127.0.0.1:8000", scope("127.0.0.1:8000")),
        ("http://[::1]:8000", scope("[::1]:8000")),
        ("http://chat.example.com", scope("chat.example.com")),
        ("HTTP://CHAT.EXAMPLE.COM:80", scope("chat.example.com")),
        ("https://a.b.example.org", scope("a.b.example.org", "wss")),
        ("http://localhost:5173", scope("127.0.0.1:8000")),  # a dev origin, exactly
    ],
)
def test_allowed(hosts, origin, request_scope):
    assert origin_allowed(origin, request_scope)


@pytest.mark.parametrize(
    ("origin", "request_scope"),
    [
        # Another port or scheme of an allowed host is another origin.
        ("http://127.0.0.1:8080", scope("127.0.0.1:8000")),
        ("https://127.0.0.1:8000", scope("127.0.0.1:8000")),
        ("http://chat.example.com:8080", scope("chat.example.com")),
        ("https://chat.example.com", scope("chat.example.com")),
        # Another allowed host is another origin too.
        ("http://a.example.org", scope("b.example.org")),
        ("https://evil.example", scope("chat.example.com")),
        ("https://chat.example.com.evil.example", scope("chat.example.com")),
        # A Host that ALLOWED_HOSTS refuses makes no page of ours.
        ("http://evil.example", scope("evil.example")),
        ("http://chat.example.com", scope(None)),
        ("http://localhost:5174", scope("127.0.0.1:8000")),  # dev origins match exactly
        ("null", scope("chat.example.com")),
    ],
)
def test_refused(hosts, origin, request_scope):
    assert not origin_allowed(origin, request_scope)


def test_behind_the_proxy_the_forwarded_scheme_and_host_make_the_page(behind_proxy):
    forwarded = scope("app:8000", x_forwarded_proto="https", x_forwarded_host="chat.example.com")
    assert page_origin(forwarded) == "https://chat.example.com"
    assert origin_allowed("https://chat.example.com", forwarded)
    assert not origin_allowed("http://chat.example.com", forwarded)
    # Without the proxy's headers the request's own Host and scheme count.
    assert page_origin(scope("chat.example.com:8080")) == "http://chat.example.com:8080"


def test_forwarded_headers_count_only_behind_the_proxy(hosts):
    spoofed = scope("chat.example.com", x_forwarded_proto="https", x_forwarded_host="a.example.org")
    assert page_origin(spoofed) == "http://chat.example.com"


def test_debug_without_hosts_allows_local_names(settings):
    settings.DEBUG, settings.ALLOWED_HOSTS, settings.DEV_ORIGINS = True, [], []
    settings.USE_X_FORWARDED_HOST, settings.SECURE_PROXY_SSL_HEADER = False, None
    assert origin_allowed("http://localhost:3000", scope("localhost:3000"))
    assert not origin_allowed("http://localhost:3001", scope("localhost:3000"))
    assert not origin_allowed("http://example.com", scope("example.com"))


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
    assert await handshake([(b"host", b"chat.example.com"), (b"origin", b"https://evil.example")]) == (False, 1008)
    assert await handshake([(b"host", b"chat.example.com"), (b"origin", b"http://chat.example.com:8080")]) == (
        False,
        1008,
    )


async def test_middleware_lets_own_and_missing_origins_through(hosts):
    assert (await handshake([(b"host", b"chat.example.com"), (b"origin", b"http://chat.example.com")]))[0]
    # Browsers always send Origin; only non-browser clients omit it.
    assert (await handshake([(b"host", b"chat.example.com")]))[0]
