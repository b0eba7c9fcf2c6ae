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
    # Logging this session out closes all of its sockets, those opened before the change too.
    waits = [asyncio.create_task(closes(s)) for s in (*kept, sock)]
    async with httpx.AsyncClient(base_url=topo.server(0).url, cookies=this, timeout=30) as http:
        r = await http.delete("/api/session", headers={"X-CSRFToken": this["csrftoken"]})
        assert r.status_code == 204
    assert [code for code, _ in await asyncio.gather(*waits)] == [4401] * (len(kept) + 1)
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


# ---- deactivation and deletion, from another process ----------------------------------


def manage_shell(topo: Topology, code: str) -> float:
    """Runs `code` in `manage.py shell` with the topology's settings, as an admin
    would change an account from a process that serves no socket; when it committed."""
    script = f"import time\n{code}\nprint('committed', repr(time.time()))"
    result = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", script], cwd=BACKEND_DIR, env=topo.env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return float(result.stdout.split("committed")[-1])


@pytest.mark.parametrize(
    "change",
    [
        "u = get_user_model().objects.get(pk={id}); u.is_active = False; u.save()",
        "get_user_model().objects.get(pk={id}).delete()",
    ],
    ids=["deactivated", "deleted"],
)
async def test_deactivating_or_deleting_a_user_elsewhere_closes_their_sockets_on_every_process(scaleout_topo, change):
    topo = scaleout_topo
    user = await topo.new_user()
    other_session = await second_session(user)
    bystander = (await topo.users(1))[0]
    socks = [await open_socket(topo, s, cookies, f"{user.username}@{s}")
             for s in range(len(topo.servers)) for cookies in (user.cookies, other_session)]
    untouched = await bystander.ws(1)
    waits = [asyncio.create_task(closes(sock)) for sock in socks]

    committed_at = await asyncio.to_thread(
        manage_shell, topo, "from django.contrib.auth import get_user_model\n" + change.format(id=user.id))

    for code, closed_at in await asyncio.gather(*waits):
        assert code == 4401
        assert closed_at - committed_at <= CLOSE_WITHIN
    await untouched.ping()
    # Neither session logs them in any more, and a new socket is closed at once.
    for cookies in (user.cookies, other_session):
        assert await session_user(topo, cookies) is None
    sock = await Socket.open(topo.server(1), cookie=user.cookie_header(), name="after")
    topo.sockets.append(sock)
    assert await sock.closed(5) == 4401
