"""Account changes reach the sockets on every process: a password change ends
every other session of the user and closes their sockets, and so does
deactivating or deleting the account, even from a process that serves no
socket at all (manage.py shell, as the admin would)."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest

from .harness import BACKEND_DIR, PYTHON, Socket, Topology, User

pytestmark = pytest.mark.e2e

# The contract's bound for a logout; account changes keep it too.
CLOSE_WITHIN = 2.0


async def second_session(user: User, server: int = 1) -> dict[str, str]:
    """The cookies of another login of `user` (another browser)."""
    async with httpx.AsyncClient(base_url=user.topology.server(server).url, timeout=30) as http:
        await http.get("/api/session")
        r = await http.post("/api/session", json={"username": user.username, "password": user.password},
                            headers={"X-CSRFToken": http.cookies["csrftoken"]})
        assert r.status_code == 200, r.text
        return {name: http.cookies[name] for name in ("sessionid", "csrftoken")}


async def open_socket(topo: Topology, server: int, cookies: dict[str, str], name: str) -> Socket:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    sock = await Socket.open(topo.server(server), cookie=cookie, name=name)
    topo.sockets.append(sock)
    await sock.ping()
    return sock


async def session_user(topo: Topology, cookies: dict[str, str], server: int = 0):
    async with httpx.AsyncClient(base_url=topo.server(server).url, cookies=cookies, timeout=30) as http:
        return (await http.get("/api/session")).json()["user"]


async def closes(sock: Socket) -> tuple[int | None, float]:
    code = await sock.closed(timeout=30)
    return code, time.time()


# ---- POST /api/password ------------------------------------------------------------


async def test_a_password_change_closes_the_other_sessions_sockets_on_every_process(topo):
    user = await topo.new_user()
    this = dict(user.cookies)
    other = await second_session(user)
    servers = range(len(topo.servers))
    kept = [await open_socket(topo, s, this, f"this@{s}") for s in servers]
    ended = [await open_socket(topo, s, other, f"other@{s}") for s in servers]
    waits = [asyncio.create_task(closes(sock)) for sock in ended]

    async with user.http(0) as http:
        r = await http.post("/api/password", json={"old_password": user.password, "new_password": "n3w-" + user.password})
        changed_at = time.time()
        assert r.status_code == 200, r.text
        assert r.json() == {"user": user.wire}
        # The change cycled this session's key (no fixation): the answer sets the new cookie.
        this = {"sessionid": r.cookies["sessionid"], "csrftoken": this["csrftoken"]}

    for code, closed_at in await asyncio.gather(*waits):
        assert code == 4401
        assert closed_at - changed_at <= CLOSE_WITHIN
    # This session's sockets stay open and keep working.
    for sock in kept:
        await sock.ping()
    assert await session_user(topo, other) is None
    for server in servers:
        assert await session_user(topo, this, server) == user.wire
    sock = await open_socket(topo, len(topo.servers) - 1, this, "this-again")
    await sock.ping()
    # The new password logs in; the old one does not.
    async with httpx.AsyncClient(base_url=topo.server(0).url, timeout=30) as http:
        await http.get("/api/session")
        for password, status in ((user.password, 400), ("n3w-" + user.password, 200)):
            r = await http.post("/api/session", json={"username": user.username, "password": password},
                                headers={"X-CSRFToken": http.cookies["csrftoken"]})
            assert r.status_code == status, r.text


async def test_a_password_change_without_a_session_is_401(topo):
    async with httpx.AsyncClient(base_url=topo.server(0).url, timeout=30) as http:
        await http.get("/api/session")
        r = await http.post("/api/password", json={"old_password": "a", "new_password": "b"},
                            headers={"X-CSRFToken": http.cookies["csrftoken"]})
        assert r.status_code == 401
        assert set(r.json()) == {"error"}
