"""The SPA shell on every page path, static files, /healthz and error pages."""

import json
import re
import socket
import time

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from web import errors

MANIFEST = json.loads((settings.FRONTEND_DIST / ".vite" / "manifest.json").read_text())
BUNDLE = "/static/" + MANIFEST["src/main.tsx"]["file"]


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- the shell ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/r/general", "/anything/deep/path", "/login?next=/r/x", "/api", "/healthz/"])
def test_page_paths_get_the_shell(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<div id="root"></div>' in html
    assert f'<script type="module" crossorigin="" src="{BUNDLE}"></script>' in html
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="data:image/svg\+xml,', html)
    assert response.cookies["csrftoken"].value
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/anything", "/ws/", "/ws/deep", "/static/missing.js", "/static/"])
def test_reserved_prefixes_never_get_the_shell(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b'id="root"' not in response.content


def test_plain_404_is_short_text(client):
    response = client.get("/static/missing.js")
    assert response.content == b"404 not found\n"


def test_the_built_bundle_is_served_immutable(client):
    response = client.get(BUNDLE)
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert "max-age=315360000" in cache_control
    body = b"".join(response.streaming_content)
    assert body == (settings.FRONTEND_DIST / MANIFEST["src/main.tsx"]["file"]).read_bytes()


# ---- the service worker ----------------------------------------------------------


def test_the_service_worker_is_served_at_the_root_never_stale(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    # Vite copies frontend/public/sw.js into the bundle's folder as it is.
    assert response.content == (settings.FRONTEND_DIST / "sw.js").read_bytes()
    assert b"addEventListener('push'" in response.content
    assert b'id="root"' not in response.content

    again = client.get("/sw.js", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert again["Cache-Control"] == "no-cache"
    assert client.get("/sw.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_service_worker_is_only_read(client):
    assert Client().post("/sw.js").status_code == 405
    assert client.head("/sw.js").status_code == 200


def test_without_a_built_service_worker_sw_js_is_a_plain_404(client, monkeypatch):
    from web import views

    monkeypatch.setattr(views.finders, "find", lambda path: None)
    response = client.get("/sw.js")
    assert response.status_code == 404
    assert response.content == b"404 not found\n"


# ---- /healthz ------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_healthz_ok_on_a_redis_channel_layer(client, redis_url):
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}}
    with override_settings(CHANNEL_LAYERS=layers):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.django_db
def test_healthz_names_a_broken_channel_layer(client):
    address = f"redis://127.0.0.1:{closed_port()}/0"
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [address]}}}
    started = time.monotonic()
    with override_settings(CHANNEL_LAYERS=layers):
        response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "error"}


@pytest.mark.django_db
def test_healthz_names_a_broken_database(client):
    # The real connection pointed at a database that cannot be reached. Its open
    # connection and transaction state are set aside and put back afterwards.
    from django.db import connections

    connection = connections["default"]
    saved = dict(connection.__dict__)
    broken = dict(connection.settings_dict)
    if broken["ENGINE"] == "django.db.backends.sqlite3":
        broken["NAME"] = "/nonexistent-directory/db.sqlite3"
    else:
        broken["PORT"] = str(closed_port())
    connection.connection = None
    connection.settings_dict = broken
    try:
        response = client.get("/healthz")
    finally:
        connection.__dict__.clear()
        connection.__dict__.update(saved)
    assert response.status_code == 503
    assert response.json() == {"database": "error", "channel_layer": "ok"}


# ---- error pages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "status"),
    [(errors.bad_request, 400), (errors.permission_denied, 403), (errors.page_not_found, 404)],
)
def test_error_pages_are_json_under_api(handler, status):
    response = handler(RequestFactory().get("/api/x"), Exception("internal detail"))
    assert response.status_code == status
    assert set(json.loads(response.content)) == {"error"}
    assert b"internal detail" not in response.content


def test_server_error_is_json_under_api_and_text_elsewhere():
    api = errors.server_error(RequestFactory().get("/api/x"))
    assert (api.status_code, json.loads(api.content)) == (500, {"error": "server error"})
    page = errors.server_error(RequestFactory().get("/r/x"))
    assert (page.status_code, page.content) == (500, b"500 server error\n")
