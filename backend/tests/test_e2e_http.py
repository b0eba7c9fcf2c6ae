"""Contract rows for HTTP: session auth with CSRF, /healthz, the SPA shell, JSON 404s."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest

from .harness import REPO_DIR

pytestmark = pytest.mark.e2e


def anon(topo, server: int = 0) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=topo.server(server).url, timeout=30)


async def csrf(http: httpx.AsyncClient) -> str:
    r = await http.get("/api/session")
    assert r.status_code == 200
    assert "csrftoken" in r.cookies or "csrftoken" in http.cookies, r.headers
    return http.cookies["csrftoken"]


async def test_session_get_anonymous_sets_csrf_cookie(topo):
    async with anon(topo) as http:
        r = await http.get("/api/session")
        assert r.status_code == 200
        assert r.json() == {"user": None}
        assert "csrftoken" in r.cookies


async def test_signup_logs_in_and_session_round_trip(topo):
    username = f"h{secrets.token_hex(5)}"
    password = "e2e-" + secrets.token_urlsafe(12)
    async with anon(topo) as http:
        token = await csrf(http)
        r = await http.post("/api/users", json={"username": username, "password": password},
                            headers={"X-CSRFToken": token})
        assert r.status_code == 201, r.text
        user = r.json()["user"]
        assert set(user) == {"id", "username"} and user["username"] == username and isinstance(user["id"], int)
        assert "sessionid" in http.cookies
        r = await http.get("/api/session")
        assert r.json() == {"user": user}

        # Logging out: 204, anonymous afterwards.
        token = http.cookies["csrftoken"]
        r = await http.delete("/api/session", headers={"X-CSRFToken": token})
        assert r.status_code == 204, r.text
        r = await http.get("/api/session")
        assert r.json() == {"user": None}

        # Wrong password: 400 with an error text; right one: 200 and a session cookie.
        token = await csrf(http)
        r = await http.post("/api/session", json={"username": username, "password": "wrong-" + password},
                            headers={"X-CSRFToken": token})
        assert r.status_code == 400, r.text
        assert isinstance(r.json().get("error"), str) and r.json()["error"]
        r = await http.post("/api/session", json={"username": username, "password": password},
                            headers={"X-CSRFToken": http.cookies["csrftoken"]})
        assert r.status_code == 200, r.text
        assert r.json() == {"user": user}
        assert "sessionid" in http.cookies
        r = await http.get("/api/session")
        assert r.json() == {"user": user}

    # Over the other process too (scale-out shares the session store).
    async with httpx.AsyncClient(base_url=topo.server(1).url, cookies=dict(http.cookies), timeout=30) as other:
        r = await other.get("/api/session")
        assert r.json() == {"user": user}


async def test_signup_validation_errors_have_fields(topo):
    [existing] = await topo.users(1)
    async with anon(topo) as http:
        token = await csrf(http)
        r = await http.post("/api/users", json={"username": existing.username, "password": "e2e-" + secrets.token_urlsafe(12)},
                            headers={"X-CSRFToken": token})
        assert r.status_code == 400, r.text
        body = r.json()
        assert isinstance(body.get("error"), str) and body["error"]
        assert "username" in body.get("fields", {}), body

        r = await http.post("/api/users", json={"username": f"h{secrets.token_hex(5)}", "password": "123"},
                            headers={"X-CSRFToken": token})
        assert r.status_code == 400, r.text
        body = r.json()
        assert "password" in body.get("fields", {}), body
        assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["fields"].values()), body
        # Still anonymous after failures.
        assert (await http.get("/api/session")).json() == {"user": None}


@pytest.mark.parametrize("path", ["/api/users", "/api/session"])
@pytest.mark.parametrize("payload", [b"{not json", b"", b"[1, 2]", b'"text"', b"null", b'{"username": "x"}',
                                     b'{"password": "x"}', b'{"username": 5, "password": ["x"]}'])
async def test_malformed_bodies_get_400_not_500(topo, path, payload):
    async with anon(topo) as http:
        token = await csrf(http)
        r = await http.post(path, content=payload, headers={"X-CSRFToken": token, "Content-Type": "application/json"})
        assert r.status_code == 400, (r.status_code, r.text[:500])
        assert isinstance(r.json().get("error"), str)


async def test_csrf_required_for_post_and_delete(topo):
    async with anon(topo) as http:
        await csrf(http)
        r = await http.post("/api/users", json={"username": f"h{secrets.token_hex(5)}", "password": "e2e-" + secrets.token_urlsafe(12)})
        assert r.status_code == 403, r.text
        r = await http.post("/api/session", json={"username": "a", "password": "b"}, headers={"X-CSRFToken": "nope" * 8})
        assert r.status_code == 403, r.text
    [user] = await topo.users(1)
    async with httpx.AsyncClient(base_url=topo.server(0).url, cookies=dict(user.cookies), timeout=30) as http:
        r = await http.delete("/api/session")
        assert r.status_code == 403, r.text
        assert (await http.get("/api/session")).json()["user"]["id"] == user.id


async def test_healthz(topo):
    for server in topo.servers:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.get("/healthz")
            assert r.status_code == 200
            assert r.json() == {"database": "ok", "channel_layer": "ok"}


async def test_healthz_while_sockets_are_open(topo):
    # The process's hub waits on the channel layer all the time; the health
    # check's own round trip through the same layer must still get through.
    users = await topo.users(len(topo.servers))
    for i, user in enumerate(users):
        sock = await user.ws(i)
        await sock.ping()
    for server in topo.servers:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            for _ in range(2):
                r = await http.get("/healthz")
                assert r.status_code == 200, r.text
                assert r.json() == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.parametrize("path", ["/", "/r/x", "/r/general/deep/link", "/login"])
async def test_spa_shell_carries_the_manifest_bundle(topo, path):
    manifest = json.loads((REPO_DIR / "frontend" / "dist" / ".vite" / "manifest.json").read_text())
    entry = next(chunk for chunk in manifest.values() if chunk.get("isEntry"))
    async with anon(topo) as http:
        r = await http.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
        assert f'src="/static/{entry["file"]}"' in r.text, r.text[:2000]
        assert "<script" in r.text
        # The bundle the tag names is really served.
        asset = await http.get(f"/static/{entry['file']}")
        assert asset.status_code == 200


@pytest.mark.parametrize("path", ["/api/nope", "/api/users/1/deep"])
async def test_unknown_api_path_is_json_404(topo, path):
    async with anon(topo) as http:
        r = await http.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/json")
        assert isinstance(r.json().get("error"), str)


@pytest.mark.parametrize("path", ["/", "/r/x", "/api/session", "/api/nope"])
async def test_page_and_api_answers_carry_the_content_security_policy(topo, path):
    async with anon(topo) as http:
        r = await http.get(path)
    policy = r.headers["content-security-policy"]
    assert "script-src 'self';" in policy + ";" and "unsafe-inline" not in policy
    # The socket's origin is the one this browser reached, port included.
    assert f"connect-src 'self' ws://127.0.0.1:{topo.server(0).port}" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
