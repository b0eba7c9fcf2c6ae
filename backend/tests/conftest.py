"""Fixtures for the end-to-end suites: topologies started once per run, lazily.

The shared topologies run with generous limits (operator settings): a
CHAT_SEND_RATE so tests can store hundreds of messages, and a CHAT_SIGNUP_RATE
so every test can sign up the users it needs from 127.0.0.1. The limits
themselves are tested on dedicated servers.
"""

from __future__ import annotations

import pytest

from .harness import GENEROUS_SIGNUP_RATE, RedisServer, Topology

GENEROUS_RATE = "100000/10s"
GENEROUS = {"CHAT_SEND_RATE": GENEROUS_RATE, "CHAT_SIGNUP_RATE": GENEROUS_SIGNUP_RATE}


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


def _started(topology: Topology):
    try:
        topology.start()
    except BaseException:
        topology.stop()
        raise
    return topology


@pytest.fixture(scope="session")
def embedded():
    topology = _started(Topology(kind="embedded", extra_env=GENEROUS))
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def scaleout(shared_redis):
    topology = _started(Topology(kind="scaleout", processes=2, redis=shared_redis, redis_db=1, postgres=True,
                                 extra_env=GENEROUS))
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def embedded_16m():
    """Daphne with a 16 MiB cap instead of make run's 64 KiB: the consumer itself
    must then close an oversized frame with 1009 (chat.transport, consumers)."""
    topology = _started(Topology(kind="embedded-16m", extra_env=GENEROUS, message_cap=16 * 1024 * 1024))
    yield topology
    topology.stop()


async def _in_test(topology: Topology):
    """Closes the test's sockets afterwards and fails the test if a server logged a traceback."""
    offsets = topology.log_offsets()
    yield topology
    await topology.close_sockets()
    topology.check_logs(offsets)


@pytest.fixture(params=["embedded", "scaleout"])
async def topo(request):
    async for t in _in_test(request.getfixturevalue(request.param)):
        yield t


@pytest.fixture(params=["embedded", "scaleout", "embedded_16m"])
async def capped_topo(request):
    """For the tests about frame sizes: both topologies, and Daphne with a higher cap."""
    async for t in _in_test(request.getfixturevalue(request.param)):
        yield t


@pytest.fixture
async def embedded_topo(embedded):
    async for t in _in_test(embedded):
        yield t


@pytest.fixture
async def scaleout_topo(scaleout):
    async for t in _in_test(scaleout):
        yield t
