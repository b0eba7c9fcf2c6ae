"""The admin on the real servers (two processes, Redis, PostgreSQL): staff only,
its own files served under the policy, and a user deactivated there has every
socket closed with 4401 on every process within 2 s."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from .test_e2e_accounts import CLOSE_WITHIN, closes, manage_shell

pytestmark = pytest.mark.e2e


async def make_staff(topo, user) -> None:
    await asyncio.to_thread(
        manage_shell, topo,
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.filter(pk={user.id}).update(is_staff=True, is_superuser=True)",
    )


async def test_admin_is_staff_only_and_serves_its_own_files(scaleout_topo):
    member = await scaleout_topo.new_user()
    async with member.http() as http:
        answer = await http.get("/admin/")
        assert answer.status_code == 302 and answer.headers["location"].startswith("/admin/login/")
        login_page = await http.get("/admin/login/")
        assert login_page.status_code == 200
        assert "script-src 'self'" in login_page.headers["content-security-policy"]
        stylesheets = re.findall(r'href="(/static/admin/[^"]+\.css)"', login_page.text)
        assert stylesheets
        for href in stylesheets:
            assert (await http.get(href)).status_code == 200, href
    await make_staff(scaleout_topo, member)
    async with member.http(1) as http:
        index = await http.get("/admin/")
        assert index.status_code == 200 and "Rooms" in index.text and "Messages" in index.text


async def test_deactivating_in_the_admin_closes_the_users_sockets_on_every_process(scaleout_topo):
    boss = await scaleout_topo.new_user()
    target = await scaleout_topo.new_user()
    bystander = await scaleout_topo.new_user()
    await make_staff(scaleout_topo, boss)
    socks = [await target.ws(server=s) for s in (0, 1)]
    for sock in socks:
        await sock.ping()
    untouched = await bystander.ws(server=1)
    waits = [asyncio.create_task(closes(sock)) for sock in socks]

    async with boss.http(0) as http:
        answer = await http.post("/admin/auth/user/", data={"action": "deactivate", "_selected_action": [target.id]})
        done_at = time.time()
    assert answer.status_code == 302, answer.text[:500]

    for code, closed_at in await asyncio.gather(*waits):
        assert code == 4401
        assert closed_at - done_at <= CLOSE_WITHIN
    await untouched.ping()
