"""Limits per client address on dedicated servers with the default settings:
sign-ups (CHAT_SIGNUP_RATE). One process with the in-memory limiter, and two
processes sharing Redis, where the limit must hold across both.

Every test speaks from loopback addresses of its own (127.0.0.x as the source
of the connection), so Daphne sees distinct clients and the tests do not use
up each other's allowance.
"""

from __future__ import annotations

import itertools
import secrets

import httpx
import pytest

from .harness import Topology

pytestmark = pytest.mark.e2e

_addresses = (f"127.0.{i}.{j}" for i, j in itertools.product(range(10, 250), range(2, 250)))


def new_address() -> str:
    return next(_addresses)


@pytest.fixture(scope="module", params=["embedded", "scaleout"])
def limits_topology(request, shared_redis):
    if request.param == "embedded":
        topology = Topology(kind="limits")
    else:
        topology = Topology(kind="limits-scaleout", processes=2, redis=shared_redis, redis_db=3, postgres=True)
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()


@pytest.fixture
def topo(limits_topology):
    offsets = limits_topology.log_offsets()
    yield limits_topology
    limits_topology.check_logs(offsets)


def client(topo: Topology, server: int, address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address`."""
    return httpx.AsyncClient(base_url=topo.server(server).url, timeout=30,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def post(http: httpx.AsyncClient, path: str, body: dict) -> httpx.Response:
    if "csrftoken" not in http.cookies:
        assert (await http.get("/api/session")).status_code == 200
    return await http.post(path, json=body, headers={"X-CSRFToken": http.cookies["csrftoken"]})


def credentials() -> dict:
    return {"username": f"l{secrets.token_hex(5)}", "password": "e2e-" + secrets.token_urlsafe(12)}


# ---- sign-ups --------------------------------------------------------------------------


async def test_five_sign_ups_per_address_then_429_on_every_process(topo):
    address = new_address()
    for n in range(5):
        async with client(topo, n, address) as http:
            r = await post(http, "/api/users", credentials())
            assert r.status_code == 201, r.text
    refused = credentials()
    for server in range(len(topo.servers)):
        async with client(topo, server, address) as http:
            r = await post(http, "/api/users", refused)
            assert r.status_code == 429, r.text
            assert r.headers["content-type"] == "application/json"
            assert set(r.json()) == {"error"}
            assert 1 <= int(r.headers["retry-after"]) <= 3600
            assert (await http.get("/api/session")).json() == {"user": None}
    # The refused account does not exist: logging in with it fails (from another address).
    async with client(topo, 0, new_address()) as http:
        r = await post(http, "/api/session", refused)
        assert r.status_code == 400, r.text
    # Another address signs up as usual.
    async with client(topo, 0, new_address()) as http:
        assert (await post(http, "/api/users", credentials())).status_code == 201
