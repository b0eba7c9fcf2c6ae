"""Operations: /metrics (who may read it, what it counts), JSON logs with their
context, access lines on request only. Real Daphne processes, a Redis of their own."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from .harness import GENEROUS_LIMITS, RedisServer, Server, Topology, metric, running, unique_room

pytestmark = pytest.mark.e2e

TOKEN = "metrics-token-for-the-test"


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    """One process logging JSON with access lines, whose /metrics answers the token
    only (loopback is not in its allow list), over a Redis the tests may stop."""
    redis = RedisServer(tmp_path_factory.mktemp("ops-redis"))
    redis.start()
    topology = Topology(kind="ops", redis=redis, extra_env={
        **GENEROUS_LIMITS, "LOG_FORMAT": "json", "ACCESS_LOG": "1", "CHAT_METRICS_TOKEN": TOKEN,
        "CHAT_METRICS_ALLOW": "10.0.0.0/8", "CHAT_REDIS_TIMEOUT": "1",
    })
    try:
        with running(topology):
            yield topology
    finally:
        redis.stop()


def extra_server(topology: Topology, name: str, env: dict[str, str], args: tuple[str, ...] = ()) -> Server:
    """Another process over the same store, with its own settings."""
    server = Server(name=name, var_dir=topology.var_dir, env={**topology.env(), **env}, args=args)
    server.start()
    return server


def log_records(server: Server, offset: int = 0) -> list[dict]:
    lines = [line for line in server.log_since(offset).splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{server.name} wrote a line that is not JSON: {line!r}") from None
    return records


async def test_metrics_answer_the_token_not_the_address_a_header_claims(ops):
    server = ops.servers[0]
    forwarded = extra_server(ops, "ops-proxied", {}, args=("--proxy-headers",))
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            # Loopback is not in this CHAT_METRICS_ALLOW: 404 as for any unknown path.
            refused = await http.get(f"{server.url}/metrics")
            assert refused.status_code == 404 and "chat_" not in refused.text
            wrong = await http.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 404
            # Daphne takes the client's address from X-Forwarded-For here; /metrics does not.
            claimed = await http.get(f"{forwarded.url}/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
            assert claimed.status_code == 404
            allowed = await http.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert allowed.status_code == 200
            assert allowed.headers["content-type"].startswith("text/plain")
            assert "# TYPE chat_frames_in_total counter" in allowed.text
    finally:
        forwarded.stop()


async def test_metrics_count_frames_sends_deliveries_and_calls(ops):
    (alice, bob) = await ops.users(2)
    room = unique_room("metrics")

    async def scrape() -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(f"{ops.servers[0].url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200
            return answer.text

    before = await scrape()
    a, b = await alice.ws(), await bob.ws()
    await a.join(room)
    await b.join(room)
    await a.say(room, "counted")
    await b.expect({"type": "message"})
    await a.send_raw("{not json")
    await a.expect({"type": "error", "code": "bad_json"})
    after = await scrape()

    def grew(name: str, by: float = 1, **labels) -> bool:
        return metric(after, name, **labels) - metric(before, name, **labels) >= by

    assert grew("chat_frames_in_total", 2, type="join")
    assert grew("chat_frames_in_total", type="send")
    assert grew("chat_frames_in_total", type="invalid")
    assert grew("chat_errors_total", code="bad_json")
    assert grew("chat_frames_out_total", type="sent")
    assert grew("chat_frames_out_total", 2, type="message")  # to both sockets, counted once per fan-out
    assert grew("chat_deliveries_total", 2)
    assert grew("chat_joins_total", 2)
    assert grew("chat_send_to_sent_seconds_count")
    assert grew("chat_send_to_fanout_seconds_count")
    assert grew("chat_db_call_seconds_count")
    assert grew("chat_redis_call_seconds_count")
    assert metric(after, "chat_sockets_open") >= 2
    assert metric(after, "chat_presence_entries") >= 2
    await ops.close_sockets()


async def test_json_lines_name_the_request_the_socket_the_user_and_the_room(ops):
    server = ops.servers[0]
    offset = server.log_size()
    [alice] = await ops.users(1)
    async with alice.http() as http:
        # Django logs a 4xx; this one after the view loaded the user.
        wrong = await http.post("/api/password", json={"old_password": "not-it", "new_password": "n3w-pass-xyz-42"},
                                headers={"X-Request-ID": "req-ops-1"})
        assert wrong.status_code == 400
        assert wrong.headers["X-Request-ID"] == "req-ops-1"
        named = await http.get("/healthz")
        assert re.fullmatch(r"[0-9a-f]{16}", named.headers["X-Request-ID"])
    room = unique_room("logged")
    sock = await alice.ws()
    await sock.join(room)
    ops.redis.stop()  # the typing frame's group send fails, and says so for this socket
    try:
        await sock.send({"type": "typing", "room": room, "active": True})
        await asyncio.sleep(1.5)
    finally:
        ops.redis.start()
    await sock.ping()
    await ops.close_sockets()

    records = log_records(server, offset)
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    refused = [r for r in records if r["logger"] == "django.request" and r.get("request_id") == "req-ops-1"]
    assert refused and refused[0]["user_id"] == alice.id, records[-20:]
    access = [r for r in records if r["logger"] == "chat.access" and r.get("path") == "/healthz"]
    assert access and access[0]["status"] == 200 and access[0]["method"] == "GET"
    failed = [r for r in records if r.get("room") == room and "group send" in r["message"]]
    assert failed, [r for r in records if r["level"] != "INFO"][-10:]
    assert failed[0]["user_id"] == alice.id and re.fullmatch(r"[0-9a-f]{32}", failed[0]["socket_id"])
    # The channel layer's subscribed connection serves every socket: the lines of its
    # reconnection (Redis was away) name none, whichever socket's join opened it.
    layer_lines = [r for r in records if r["logger"] == "chat.layers" or r["logger"].startswith("channels_redis")]
    assert layer_lines and not [r for r in layer_lines if "socket_id" in r], layer_lines[:3]


async def test_metrics_off_and_access_lines_off_by_default(ops):
    quiet = extra_server(ops, "ops-quiet", {"CHAT_METRICS": "0", "LOG_FORMAT": "plain", "ACCESS_LOG": ""})
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            off = await http.get(f"{quiet.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert off.status_code == 404 and "chat_" not in off.text
            assert (await http.get(f"{quiet.url}/healthz")).status_code == 200
        log = quiet.log()
        assert "/healthz" not in log and "/metrics" not in log, log[-2000:]
        assert "Chat is running at" in log  # the plain format: make run's line as it was
    finally:
        quiet.stop()
