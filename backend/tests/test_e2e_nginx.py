"""docker-compose.yml's production shape with real processes: the nginx config
the compose file ships, in front of two Daphne processes that share Redis and
a fresh PostgreSQL database (the `scaleout` topology). No Docker engine runs
here, so the compose file's own proxy config is rendered for loopback ports.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from .harness import REPO_DIR, Endpoint, Socket, free_port, unique_room, wait_until

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COMPOSE = REPO_DIR / "docker-compose.yml"


def render_config(*, upstreams: list[int], port: int, workdir: Path) -> str:
    """The compose file's nginx site with Docker's names swapped for loopback ports."""
    site = yaml.safe_load(COMPOSE.read_text())["configs"]["nginx"]["content"].replace("$$", "$")
    substitutions = [
        # Docker's DNS (and nginx >= 1.27.3's `resolve`) find the replicas there; here they are
        # ports, each with the compose file's parameters (max_fails, fail_timeout).
        (r"^\s*resolver [^;]*;\n", ""),
        (r"server app:8000 resolve([^;]*);", lambda m: " ".join(f"server 127.0.0.1:{p}{m[1]};" for p in upstreams)),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
    ]
    for pattern, replacement in substitutions:
        site, count = re.subn(pattern, replacement, site, flags=re.M)
        assert count == 1, f"docker-compose.yml's nginx config no longer has {pattern!r}"
    temp = "\n".join(f"  {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (
        f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n{temp}\n{site}\n}}\n"
    )


class Proxy(Endpoint):
    def __init__(self, port: int):
        self.name, self.port = "nginx", port


@pytest.fixture(scope="module")
def proxy(scaleout, tmp_path_factory):
    with nginx_in_front([s.port for s in scaleout.servers], tmp_path_factory.mktemp("nginx")) as endpoint:
        yield endpoint


@contextlib.contextmanager
def nginx_in_front(upstreams: list[int], workdir: Path):
    """The compose file's nginx in front of these ports, until the block ends."""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / kind).mkdir(mode=0o777)
    port = free_port()
    config = workdir / "nginx.conf"
    config.write_text(render_config(upstreams=upstreams, port=port, workdir=workdir))
    test = subprocess.run([NGINX, "-t", "-q", "-p", str(workdir), "-c", str(config)], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(config)], stderr=subprocess.PIPE)
    endpoint = Proxy(port)

    def answers() -> bool:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "nginx exited"
        try:
            return httpx.get(f"{endpoint.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, time.monotonic() + 20, "nginx in front of the replicas")
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


async def socket(proxy: Proxy, user) -> Socket:
    sock = await Socket.open(proxy, cookie=user.cookie_header(), name=f"{user.username}@nginx")
    user.topology.sockets.append(sock)
    return sock


async def test_http_through_the_proxy(proxy, scaleout_topo):
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
        assert (await http.get("/healthz")).json() == {"database": "ok", "channel_layer": "ok"}
        shell = await http.get("/r/general")
        assert shell.status_code == 200 and '<script type="module"' in shell.text
        assert (await http.get("/api/session")).json() == {"user": None}
        username = unique_room("viaproxy").replace("-", "")
        created = await http.post(
            "/api/users",
            json={"username": username, "password": "through-the-proxy-42"},
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
        )
        assert created.status_code == 201, created.text
        assert (await http.get("/api/session")).json()["user"]["username"] == username


async def test_chat_through_the_proxy_reaches_every_replica(proxy, scaleout_topo):
    """nginx round-robins new connections, so each user's two tabs, opened one
    after the other, land on different processes; every frame still reaches
    every socket, and typing still skips the typist's other tab."""
    # bob is logged out below: a user of this test's own, not one of the shared pool.
    (alice,) = await scaleout_topo.users(1)
    bob = await scaleout_topo.new_user()
    room = unique_room("proxied")
    a1, a2, b1, b2 = [await socket(proxy, user) for user in (alice, alice, bob, bob)]
    for sock in (a1, a2, b1, b2):
        await sock.join(room)
    await b2.send({"type": "typing", "room": room, "active": True})
    typing = await a1.expect({"type": "typing"})
    assert typing["user"] == bob.wire and typing["active"] is True
    await b1.absent({"type": "typing"}, within=0.5)  # not to bob's own other tab

    sent = await a2.say(room, "through nginx")
    for sock in (a1, a2, b1, b2):
        live = await sock.expect(lambda f: f["type"] == "message" and f["message"]["id"] == sent["id"])
        assert live["message"]["body"] == "through nginx"

    # A logout through the proxy closes both of bob's sockets, wherever they landed.
    assert (await bob.logout()).status_code == 204
    assert await b1.closed(timeout=2.5) == 4401
    assert await b2.closed(timeout=2.5) == 4401
    await a1.ping()


async def test_oversized_frame_closes_1009_through_the_proxy(proxy, scaleout_topo):
    (alice,) = await scaleout_topo.users(1)
    sock = await socket(proxy, alice)
    await sock.send_raw("x" * (64 * 1024 + 1))
    assert await sock.closed() == 1009


async def test_metrics_are_for_the_operator_not_through_the_proxy(proxy, scaleout_topo):
    """Each replica answers /metrics on its own address (loopback is in the default
    CHAT_METRICS_ALLOW), and nginx, whose address is too, answers it 404 itself."""
    async with httpx.AsyncClient(timeout=30) as http:
        direct = await http.get(f"{scaleout_topo.servers[0].url}/metrics")
        assert direct.status_code == 200, direct.text
        assert "chat_frames_in_total" in direct.text
        for path in ("/metrics", "/metrics/", "/metrics?x=1"):
            through = await http.get(f"{proxy.url}{path}")
            assert through.status_code == 404, (path, through.status_code)
            assert "chat_" not in through.text
