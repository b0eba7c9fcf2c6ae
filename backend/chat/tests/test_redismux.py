"""The pipelined Redis client of the hot calls (chat/redismux.py), on redis-servers of its own."""

import asyncio
import os
import signal
import time

import pytest
import redis
from redis import exceptions

from chat.redis import PrefixedScripts
from chat.redismux import Multiplexer, get_multiplexer
from chat.tests.test_presence import redis_server, redis_url  # noqa: F401 (fixtures)
from tests.harness import RedisServer, free_port

TIMEOUT = 1.0


def mux_connections(probe: redis.Redis) -> list[dict]:
    """The server's client connections but the probe's own."""
    me = probe.client_id()
    return [client for client in probe.client_list() if int(client["id"]) != me]


async def test_concurrent_calls_share_one_connection_and_get_their_own_replies(redis_url):  # noqa: F811
    mux = Multiplexer(redis_url, timeout=TIMEOUT)
    with redis.Redis.from_url(redis_url) as probe:
        results = await asyncio.gather(*(mux.execute("INCR", "n") for _ in range(500)))
        assert results == list(range(1, 501))  # in the order called, each its own
        assert len(mux_connections(probe)) == 1
        await mux.execute("SET", "text", "héllo")
        assert await mux.execute("GET", "text") == "héllo"
        assert await mux.execute("GET", "missing") is None
        assert await mux.execute("PUBLISH", "nobody", b"\x80\x81 not utf-8") == 0
    mux.close()


async def test_an_error_reply_raises_for_its_call_only(redis_url):  # noqa: F811
    mux = Multiplexer(redis_url, timeout=TIMEOUT)
    await mux.execute("SET", "word", "abc")
    ok, failed, after = await asyncio.gather(
        mux.execute("GET", "word"), mux.execute("INCR", "word"), mux.execute("STRLEN", "word"), return_exceptions=True
    )
    assert (ok, after) == ("abc", 3)
    assert isinstance(failed, exceptions.ResponseError) and "not an integer" in str(failed)
    with pytest.raises(exceptions.DataError):
        await mux.execute("SET", "flag", True)  # as redis-py: no guessing what a bool means
    mux.close()


async def test_scripts_run_by_digest_and_come_back_after_a_script_flush(redis_url):  # noqa: F811
    mux = Multiplexer(redis_url, timeout=TIMEOUT)
    source = "redis.call('INCR', ARGV[1]); return {redis.call('GET', ARGV[1]), ARGV[2]}"
    with redis.Redis.from_url(redis_url) as probe:
        probe.config_resetstat()
        assert await mux.script(source, args=["k", "x"]) == ["1", "x"]
        assert await mux.script(source, args=["k", "y"]) == ["2", "y"]
        probe.script_flush()  # as a restarted Redis has no scripts
        assert await mux.script(source, args=["k", "z"]) == ["3", "z"]
        stats = probe.info("commandstats")
        assert stats["cmdstat_eval"]["calls"] == 2  # the first call and the one after the flush
        assert stats["cmdstat_evalsha"]["calls"] == 3
    mux.close()


async def test_a_caller_that_gives_up_does_not_shift_the_replies_of_the_others(redis_url):  # noqa: F811
    mux = Multiplexer(redis_url, timeout=5)
    await mux.execute("SET", "k", "value")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await mux.execute("WAIT", 1, 300)  # no replica: Redis answers after 300 ms
    assert await mux.execute("GET", "k") == "value"  # not WAIT's late 0
    assert await mux.execute("INCR", "after") == 1
    mux.close()


async def test_a_lost_connection_fails_its_calls_and_the_next_call_reconnects(redis_url):  # noqa: F811
    mux = Multiplexer(redis_url, timeout=5)
    with redis.Redis.from_url(redis_url) as probe:
        await mux.execute("PING")
        [first] = mux_connections(probe)
        in_flight = asyncio.ensure_future(mux.execute("WAIT", 1, 2000))
        await asyncio.sleep(0.1)
        probe.client_kill_filter(_id=first["id"])
        with pytest.raises(exceptions.ConnectionError):
            await in_flight
        assert await mux.execute("INCR", "again") == 1
        [second] = mux_connections(probe)
        assert second["id"] != first["id"]
    mux.close()


async def test_a_password_and_a_database_number_in_the_url_are_used(tmp_path):
    server = RedisServer(tmp_path, "--requirepass", "s3cret")
    server.start()
    port = server.port
    try:
        mux = Multiplexer(f"redis://:s3cret@127.0.0.1:{port}/3", timeout=TIMEOUT)
        assert await mux.execute("SET", "where", "db3") == "OK"
        with redis.Redis(port=port, password="s3cret", db=3) as probe:
            assert probe.get("where") == b"db3"
        mux.close()
        refused = Multiplexer(f"redis://:wrong@127.0.0.1:{port}/0", timeout=TIMEOUT)
        with pytest.raises(exceptions.ResponseError):
            await refused.execute("PING")
        refused.close()
    finally:
        server.stop()


async def test_a_stalled_redis_is_dropped_and_met_again_on_a_new_connection(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    port, process = server.port, server.proc
    try:
        mux = Multiplexer(f"redis://127.0.0.1:{port}/0", timeout=0.5)
        assert await mux.execute("INCR", "n") == 1
        os.kill(process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(exceptions.TimeoutError):  # the connection's own watch, not a caller's deadline
                await mux.execute("INCR", "n")
            assert time.monotonic() - started < 0.5 + 0.5 + 0.5  # the timeout and at most one watch interval late
        finally:
            os.kill(process.pid, signal.SIGCONT)
        assert await mux.execute("GET", "n") in ("1", "2")  # the stalled INCR may have run once Redis woke
        with redis.Redis(port=port) as probe:
            deadline = time.monotonic() + 5  # Redis notices the dropped one once it runs again
            while len(mux_connections(probe)) > 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(mux_connections(probe)) == 1
        mux.close()
    finally:
        server.stop()


async def test_an_unreachable_redis_is_a_connection_error():
    mux = Multiplexer(f"redis://127.0.0.1:{free_port()}/0", timeout=TIMEOUT)
    with pytest.raises(exceptions.ConnectionError):
        await mux.execute("PING")


async def test_urls_it_does_not_speak_stay_with_redis_py(tmp_path):
    assert get_multiplexer("redis://127.0.0.1:6379/0", timeout=TIMEOUT) is get_multiplexer(
        "redis://127.0.0.1:6379/0", timeout=TIMEOUT
    )
    assert get_multiplexer("rediss://127.0.0.1:6379/0", timeout=TIMEOUT) is None
    path = tmp_path / "redis.sock"
    server = RedisServer(tmp_path, "--unixsocket", str(path))
    server.start()
    try:
        url = f"unix://{path}?db=0"
        assert get_multiplexer(url, timeout=TIMEOUT) is None
        scripts = PrefixedScripts(url=url, prefix="p:", what="a test")  # through redis-py
        assert await scripts.run("return {ARGV[1], ARGV[3]}", "x") == ["p:", "x"]
    finally:
        server.stop()
