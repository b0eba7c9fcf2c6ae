"""docker-compose.yml's production shape with real processes: the nginx config
the compose file ships, in front of two Daphne processes that share Redis, a
fresh PostgreSQL database and an uploads folder, with CHAT_X_ACCEL on as the
compose file sets it. No Docker engine runs here, so the compose file's own
proxy config is rendered for loopback ports and that folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image

from .harness import GENEROUS_LIMITS, REPO_DIR, Endpoint, Socket, Topology, free_port, running, unique_room, wait_until

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
COMPOSE = REPO_DIR / "docker-compose.yml"


def render_config(*, upstreams: list[int], port: int, workdir: Path, uploads: Path | None = None) -> str:
    """The compose file's nginx site with Docker's names swapped for loopback
    ports, and its uploads volume for `uploads` (a folder in `workdir` if none)."""
    if uploads is None:
        uploads = workdir / "uploads"
        uploads.mkdir(exist_ok=True)
    site = yaml.safe_load(COMPOSE.read_text())["configs"]["nginx"]["content"].replace("$$", "$")
    substitutions = [
        # Docker's DNS (and nginx >= 1.27.3's `resolve`) find the replicas there; here they are
        # ports, each with the compose file's parameters (max_fails, fail_timeout).
        (r"^\s*resolver [^;]*;\n", ""),
        (r"server app:8000 resolve([^;]*);", lambda m: " ".join(f"server 127.0.0.1:{p}{m[1]};" for p in upstreams)),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"alias /srv/uploads/;", f"alias {uploads}/;"),
    ]
    for pattern, replacement in substitutions:
        site, count = re.subn(pattern, replacement, site, flags=re.M)
        assert count == 1, f"docker-compose.yml's nginx config no longer has {pattern!r}"
    temp = "\n".join(f"  {kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Started as root, nginx's workers would be `nobody`, who cannot write a
    # spooled request body under the test's private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n{temp}\n{site}\n}}\n"
    )


class Proxy(Endpoint):
    def __init__(self, port: int):
        self.name, self.port = "nginx", port


@pytest.fixture(scope="module")
def proxied(shared_redis):
    """The compose file's app: two processes, Redis, PostgreSQL, CHAT_X_ACCEL."""
    app_env = yaml.safe_load(COMPOSE.read_text())["x-app-env"]
    assert app_env["CHAT_X_ACCEL"] == "1"
    topology = Topology(kind="nginx", processes=2, redis=shared_redis, redis_db=4, postgres=True,
                        extra_env={**GENEROUS_LIMITS, "CHAT_X_ACCEL": "1"})
    with running(topology):
        yield topology


@pytest.fixture
async def scaleout_topo(proxied):
    offsets = proxied.log_offsets()
    yield proxied
    await proxied.close_sockets()
    proxied.check_logs(offsets)


@pytest.fixture(scope="module")
def proxy(proxied, tmp_path_factory):
    uploads = proxied.var_dir / "uploads"
    uploads.mkdir(exist_ok=True)
    # nginx's workers run as another user, as in the compose file; a temporary folder is the owner's alone.
    proxied.var_dir.chmod(0o755)
    upstreams = [s.port for s in proxied.servers]
    with nginx_in_front(upstreams, tmp_path_factory.mktemp("nginx"), uploads=uploads) as endpoint:
        yield endpoint


@contextlib.contextmanager
def nginx_in_front(upstreams: list[int], workdir: Path, *, uploads: Path | None = None):
    """The compose file's nginx in front of these ports, until the block ends."""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / kind).mkdir(mode=0o777)
    port = free_port()
    config = workdir / "nginx.conf"
    config.write_text(render_config(upstreams=upstreams, port=port, workdir=workdir, uploads=uploads))
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


async def test_uploads_through_the_proxy_are_sent_by_nginx(proxy, scaleout_topo):
    alice, bob = await scaleout_topo.users(2)
    picture = png_bytes()
    async with proxied_http(proxy, alice) as http:
        r = await http.post("/api/uploads", files={"file": ("dot.png", picture, "image/png")})
        assert r.status_code == 201, r.text
        attachment = r.json()["upload"]
        served = await http.get(attachment["url"])
        assert served.status_code == 200 and served.content == picture
        assert served.headers["content-type"] == "image/png"
        assert served.headers["content-disposition"].startswith("inline;")
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
        thumb = await http.get(attachment["image"]["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        # nginx's internal location is nobody's to ask for.
        assert (await http.get(f"/_uploads/{attachment['id']}/file")).status_code == 404
        # Over nginx's own limit: its 413, as JSON.
        big = await http.post("/api/uploads", files={"file": ("big.bin", b"\0" * (27 * 1024 * 1024))})
        assert big.status_code == 413 and big.headers["content-type"] == "application/json" and "error" in big.json()
    # The app itself only authorises; the bytes come from nginx.
    async with alice.http() as direct:
        answer = await direct.get(attachment["url"])
        assert answer.status_code == 200 and answer.content == b""
        assert answer.headers["x-accel-redirect"] == f"/_uploads/{attachment['id']}/file"
    async with proxied_http(proxy, bob) as http:
        refused = await http.get(attachment["url"])
        assert refused.status_code == 404 and refused.json() == {"error": "not found"}


def proxied_http(proxy: Proxy, user) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=proxy.url, cookies=dict(user.cookies), timeout=30,
                             headers={"X-CSRFToken": user.cookies["csrftoken"]})


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()
async def test_bodies_over_a_mebibyte_pass_only_to_the_upload_endpoint(proxy, scaleout_topo):
    """nginx refuses a 2 MiB body (413) except on POST /api/uploads, whose limit
    is the largest upload's: there the app itself answers (whatever it says)."""
    body = b"x" * (2 * 1024 * 1024)
    headers = {"Content-Type": "application/octet-stream"}
    async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
        refused = await http.post("/api/session", content=body, headers=headers)
        assert refused.status_code == 413 and "nginx" in refused.text
        passed = await http.post("/api/uploads", content=body, headers=headers)
        assert passed.status_code != 413 and "nginx" not in passed.text, passed.text[:300]


def test_the_main_config_with_the_site_passes_nginx_own_check(tmp_path):
    """The compose file's nginx.conf (connection limits) around its site, as the
    proxy container loads them, checked by `nginx -t` (paths moved to tmp)."""
    compose = yaml.safe_load(COMPOSE.read_text())
    site = tmp_path / "site.conf"
    site.write_text(render_config(upstreams=[free_port()], port=free_port(), workdir=tmp_path).split("http {", 1)[1]
                    .rsplit("}", 1)[0])
    main = compose["configs"]["nginx_main"]["content"]
    for pattern, replacement in [
        (r"^user nginx;\n", ""),
        (r"/var/log/nginx/", f"{tmp_path}/"),
        (r"/var/run/nginx.pid", f"{tmp_path}/nginx.pid"),
        (r"include /etc/nginx/conf.d/\*.conf;", f"include {site};"),
    ]:
        main, count = re.subn(pattern, replacement, main, flags=re.M)
        assert count >= 1, pattern
    config = tmp_path / "nginx.conf"
    config.write_text(main)
    check = subprocess.run([NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
