"""The client address behind the compose file's nginx. Daphne (--proxy-headers)
takes the leftmost X-Forwarded-For entry as the client, and the limits count
by it (accounts/limits.py): so nginx must replace whatever X-Forwarded-For a
client sends, not append to it. Checked against the compose file's own nginx
config, with a small upstream that records the headers nginx sends."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from .harness import free_port, wait_until
from .test_e2e_nginx import NGINX, render_config

pytestmark = pytest.mark.e2e


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Recorder.seen.append({name.lower(): value for name, value in self.headers.items()})
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxied(tmp_path):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / kind).mkdir()
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(render_config(upstreams=[upstream.server_address[1]], port=port, workdir=tmp_path))
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config)], stderr=subprocess.PIPE)

    def answers() -> bool:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, 20, "nginx in front of the recorder")
        Recorder.seen.clear()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        upstream.shutdown()


@pytest.mark.parametrize("path", ["/api/session", "/r/general", "/ws/"])
async def test_nginx_sends_the_connections_address_not_the_clients_claim(proxied, path):
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.77")
    async with httpx.AsyncClient(base_url=proxied, transport=transport, timeout=10) as http:
        r = await http.get(path, headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.2"})
        assert r.status_code == 200
    [headers] = Recorder.seen
    assert headers["x-forwarded-for"] == "127.0.0.77"
