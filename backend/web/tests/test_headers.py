"""Security headers: the Content-Security-Policy of the page and of every /api/
answer, and Strict-Transport-Security when the cookies are HTTPS-only."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as directive -> sources."""
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


def assert_strict(directives: dict[str, list[str]]) -> None:
    """What every answer's policy holds, whatever the request."""
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in sum(directives.values(), [])
    assert "'unsafe-eval'" not in sum(directives.values(), [])


# ---- the page --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/r/general", "/login"])
def test_the_page_allows_only_its_own_scripts_styles_and_socket(client, path):
    response = client.get(path)
    assert response.status_code == 200
    directives = policy(response)
    assert_strict(directives)
    assert directives["connect-src"] == ["'self'", "ws://testserver"]


def test_the_page_has_no_inline_script(client):
    # Every <script> names its source: a policy without 'unsafe-inline' would block any other.
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all(" src=" in tag for tag in scripts), scripts
    assert "nonce" not in html
    assert "nonce" not in client.get("/")["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("host", "secure", "socket_origin"),
    [
        ("127.0.0.1:8123", False, "ws://127.0.0.1:8123"),
        ("localhost", False, "ws://localhost"),
        ("localhost:8443", True, "wss://localhost:8443"),
        ("[::1]:9000", False, "ws://[::1]:9000"),
    ],
)
def test_the_socket_origin_follows_the_request(client, host, secure, socket_origin):
    response = client.get("/", HTTP_HOST=host, secure=secure)
    assert policy(response)["connect-src"] == ["'self'", socket_origin]


def test_behind_a_proxy_the_socket_origin_is_the_proxys(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["chat.example"]
    response = client.get("/", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_HOST="chat.example")
    assert policy(response)["connect-src"] == ["'self'", "wss://chat.example"]


# ---- every /api/ answer ----------------------------------------------------------


def _csrf(client) -> dict:
    client.get("/api/session")
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/session", None, 200),
        ("post", "/api/session", {"username": "nobody", "password": "x"}, 400),
        ("post", "/api/session", "not json", 400),
        ("post", "/api/users", {"username": "", "password": ""}, 400),
        ("put", "/api/session", None, 405),
        ("get", "/api/nowhere", None, 404),
        ("delete", "/api/session", None, 204),
    ],
)
def test_every_api_answer_carries_the_policy(client, method, path, body, status):
    headers = _csrf(client)
    if method == "get":
        response = client.get(path)
    else:
        data = body if isinstance(body, str) else json.dumps(body or {})
        response = getattr(client, method)(path, data=data, content_type="application/json", **headers)
    assert response.status_code == status
    assert_strict(policy(response))


def test_a_csrf_refusal_carries_the_policy(client):
    client.get("/api/session")
    response = client.post("/api/session", data="{}", content_type="application/json")
    assert response.status_code == 403
    assert_strict(policy(response))


def test_a_bad_host_gets_json_with_the_policy_and_no_socket_origin(client):
    # The host is not trusted, so it must not land in the policy either.
    response = client.get("/api/session", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"error": "bad request"}
    directives = policy(response)
    assert_strict(directives)
    assert directives["connect-src"] == ["'self'"]


# ---- settings that change the policy: a fresh process each -----------------------

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
page = client.get("/", secure=True)
api = client.get("/api/session", secure=True)
plain = client.get("/")
print(json.dumps({
    "page": dict(page.headers), "api": dict(api.headers), "plain": dict(plain.headers),
    "html": page.content.decode(),
}))
"""


def probe(**env) -> dict:
    """Headers and HTML of /, /api/session (over HTTPS) and / (plain) in a process with `env`."""
    full = {k: v for k, v in os.environ.items() if k not in {"SECURE_COOKIES", "DEV_ORIGINS", "VITE_DEV_MODE"}}
    full.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_SECRET_KEY="probe", ALLOWED_HOSTS="testserver", **env)
    full["PYTHONPATH"] = str(settings.BACKEND_DIR)
    result = subprocess.run([sys.executable, "-c", PROBE], env=full, cwd=settings.BACKEND_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_hsts_for_a_year_with_subdomains_when_cookies_are_secure():
    answers = probe(SECURE_COOKIES="1")
    for name in ("page", "api"):
        assert answers[name]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    # Browsers ignore HSTS over plain HTTP; Django sends it only over HTTPS.
    assert "Strict-Transport-Security" not in answers["plain"]


def test_no_hsts_without_secure_cookies():
    answers = probe()
    assert "Strict-Transport-Security" not in answers["page"]


def test_dev_origins_may_be_connected_to_over_http_and_ws():
    answers = probe(DEV_ORIGINS="http://localhost:5173,https://dev.example:8443")
    connect = answers["api"]["Content-Security-Policy"].split("connect-src ")[1].split(";")[0].split()
    assert connect == ["'self'", "http://localhost:5173", "https://dev.example:8443",
                       "ws://localhost:5173", "wss://dev.example:8443", "wss://testserver"]


def test_vite_dev_mode_allows_the_dev_server_and_a_nonce_only_there():
    answers = probe(VITE_DEV_MODE="1", VITE_DEV_SERVER_HOST="127.0.0.1", VITE_DEV_SERVER_PORT="5199")
    header = answers["page"]["Content-Security-Policy"]
    directives = {name: sources for name, *sources in (part.split() for part in header.split(";"))}
    nonce = re.search(r"'nonce-([A-Za-z0-9+/=]+)'", header)[1]
    assert directives["script-src"] == ["'self'", "http://127.0.0.1:5199", f"'nonce-{nonce}'"]
    assert directives["style-src"] == ["'self'", "http://127.0.0.1:5199", f"'nonce-{nonce}'"]
    assert "http://127.0.0.1:5199" in directives["connect-src"] and "ws://127.0.0.1:5199" in directives["connect-src"]
    assert "'unsafe-inline'" not in header
    html = answers["html"]
    # django-vite's React refresh preamble is the one inline script; it carries the nonce,
    # and Vite's client reads the meta tag's nonce for the <style> tags it injects.
    inline = re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", html)
    assert inline == [f'<script type="module" nonce="{nonce}">'], inline
    assert f'<meta property="csp-nonce" nonce="{nonce}">' in html
    assert 'src="http://127.0.0.1:5199/static/@vite/client"' in html
