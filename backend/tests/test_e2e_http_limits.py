"""Limits on dedicated servers with the default settings: sign-ups per client
address (CHAT_SIGNUP_RATE), and the login lock-out per username and per
address (CHAT_LOGIN_FAILURE_LIMIT, CHAT_LOGIN_LOCKOUT). One process (in-memory
limiter, SQLite), and two processes sharing Redis and PostgreSQL, where every
limit must hold across both.

Every test speaks from loopback addresses of its own (127.0.0.x as the source
of the connection), so Daphne sees distinct clients and the tests do not use
up each other's allowance.
"""

from __future__ import annotations

import itertools
import secrets

import httpx
import pytest

from .harness import Topology, running

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
    with running(topology):
        yield topology


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


# ---- login lock-out ----------------------------------------------------------------------


async def signed_up(topo: Topology) -> dict:
    """A new account (from an address of its own) and its credentials."""
    account = credentials()
    async with client(topo, 0, new_address()) as http:
        assert (await post(http, "/api/users", account)).status_code == 201
    return account


async def log_in(topo: Topology, server: int, address: str, account: dict, password: str | None = None):
    async with client(topo, server, address) as http:
        r = await post(http, "/api/session", {"username": account["username"],
                                              "password": password or account["password"]})
        signed_in = (await http.get("/api/session")).json()["user"]
    return r, signed_in


def assert_locked(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/json"
    assert set(r.json()) == {"error"}
    assert 800 <= int(r.headers["retry-after"]) <= 900


async def test_ten_failures_lock_a_username_on_every_process_and_address(topo):
    account = await signed_up(topo)
    attacker = new_address()
    codes = [(await log_in(topo, n, attacker, account, "wrong-password"))[0].status_code for n in range(10)]
    assert codes == [400] * 9 + [429]
    # The right password does not get in, on any process, from any address.
    for server in range(len(topo.servers)):
        for address in (attacker, new_address()):
            r, signed_in = await log_in(topo, server, address, account)
            assert_locked(r)
            assert signed_in is None


async def test_ten_failures_lock_an_address_for_every_username(topo):
    account = await signed_up(topo)
    attacker = new_address()
    for n in range(10):
        r, _ = await log_in(topo, n, attacker, credentials(), "wrong-password")
    assert r.status_code == 429
    for server in range(len(topo.servers)):
        r, _ = await log_in(topo, server, attacker, account)
        assert_locked(r)
    # The account itself has no failures: from elsewhere it logs in.
    r, signed_in = await log_in(topo, 0, new_address(), account)
    assert r.status_code == 200 and signed_in["username"] == account["username"]


async def test_a_login_on_one_process_resets_its_usernames_failures_on_all(topo):
    account = await signed_up(topo)
    address = new_address()
    for n in range(9):
        r, _ = await log_in(topo, n, address, account, "wrong-password")
        assert r.status_code == 400
    r, _ = await log_in(topo, 1, address, account)
    assert r.status_code == 200
    codes = [(await log_in(topo, n, address, account, "wrong-password"))[0].status_code for n in range(10)]
    assert codes == [400] * 9 + [429]
