"""Fixtures for the end-to-end suites: topologies started once per run, lazily.

The shared topologies run with generous limits (GENEROUS_LIMITS, operator
settings) so tests can store hundreds of messages and sign up the users they
need from 127.0.0.1; each limit itself is tested on dedicated servers.
"""

from __future__ import annotations

import pytest

from .harness import GENEROUS_LIMITS, RedisServer, Topology, running


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory):
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def embedded():
    with running(Topology(kind="embedded", extra_env=GENEROUS_LIMITS)) as topology:
        yield topology


@pytest.fixture(scope="session")
def scaleout(shared_redis):
    with running(Topology(kind="scaleout", processes=2, redis=shared_redis, redis_db=1, postgres=True,
                          extra_env=GENEROUS_LIMITS)) as topology:
        yield topology


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


@pytest.fixture(params=["embedded", "scaleout"])
async def capped_topo(request):
    """For the tests about frame sizes (chat.serve raises Daphne's cap; the consumer keeps 64 KiB)."""
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
