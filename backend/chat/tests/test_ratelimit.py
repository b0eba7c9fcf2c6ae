"""One contract for both send limiters: in memory, and Redis on a
redis-server of our own (started by test_presence's fixture)."""

import asyncio

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat.ratelimit import MemoryRateLimiter, RedisRateLimiter, get_send_rate, parse_rate
from chat.services import SendRate
from chat.tests.test_presence import FakeClock, redis_server, redis_url  # noqa: F401 (fixtures)


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request):
    clock = FakeClock()
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None

    def make(limit: int, window: float):
        if url is None:
            return MemoryRateLimiter(limit=limit, window=window, clock=clock)
        return RedisRateLimiter(limit=limit, window=window, url=url, clock=clock)

    make.clock = clock
    return make


async def test_allows_n_hits_then_refuses(make_limiter):
    limiter = make_limiter(3, 10)
    assert [await limiter.hit("u1") for _ in range(5)] == [True, True, True, False, False]


async def test_keys_are_separate(make_limiter):
    limiter = make_limiter(1, 10)
    assert await limiter.hit("u1") is True
    assert await limiter.hit("u2") is True
    assert await limiter.hit("u1") is False


async def test_window_slides(make_limiter):
    limiter, clock = make_limiter(2, 10), make_limiter.clock
    assert await limiter.hit("u1") is True  # t=0
    clock.advance(6)
    assert await limiter.hit("u1") is True  # t=6
    clock.advance(3)
    assert await limiter.hit("u1") is False  # t=9: two hits in the last 10 s
    clock.advance(1.5)
    assert await limiter.hit("u1") is True  # t=10.5: the t=0 hit aged out
    assert await limiter.hit("u1") is False


async def test_refused_hits_are_not_counted(make_limiter):
    limiter, clock = make_limiter(2, 10), make_limiter.clock
    await limiter.hit("u1")
    await limiter.hit("u1")
    for _ in range(5):
        clock.advance(1)
        assert await limiter.hit("u1") is False
    clock.advance(10)
    assert await limiter.hit("u1") is True
    assert await limiter.hit("u1") is True


async def test_retry_after_is_when_the_oldest_counted_hit_ages_out(make_limiter):
    limiter, clock = make_limiter(2, 10), make_limiter.clock
    assert await limiter.retry_after("u1") == 0  # never hit
    await limiter.hit("u1")  # t=0
    assert await limiter.retry_after("u1") == 0  # one slot left
    clock.advance(4)
    await limiter.hit("u1")  # t=4
    clock.advance(2.5)
    assert await limiter.hit("u1") is False  # t=6.5
    assert await limiter.retry_after("u1") == pytest.approx(3.5)  # the t=0 hit ages out at 10
    assert await limiter.retry_after("u2") == 0
    clock.advance(3.5)
    assert await limiter.retry_after("u1") == 0
    assert await limiter.hit("u1") is True  # t=10
    assert await limiter.retry_after("u1") == pytest.approx(4)  # now the t=4 hit is the oldest


async def test_concurrent_hits_never_exceed_the_limit(make_limiter):
    limiter = make_limiter(20, 10)
    results = await asyncio.gather(*(limiter.hit("u1") for _ in range(50)))
    assert results.count(True) == 20


async def test_redis_server_time_without_a_clock(redis_url):  # noqa: F811
    limiter = RedisRateLimiter(limit=2, window=0.3, url=redis_url)
    assert [await limiter.hit("u1") for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.4)
    assert await limiter.hit("u1") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/10s", (20, 10.0)), ("5/60", (5, 60.0)), (" 3 / 1.5s ", (3, 1.5)), ("1/1s", (1, 1.0))],
)
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "20", "20/", "/10s", "0/10s", "20/0s", "20/10m", "a/b", "-1/10s", "20/10ss"])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(text)


def test_get_send_rate_follows_settings(settings):
    settings.CHAT_SEND_RATE = "2/10s"
    assert get_send_rate() == SendRate(limit=2, window=10.0)
    settings.CHAT_SEND_RATE = "5/1.5s"
    assert get_send_rate() == SendRate(limit=5, window=1.5)

    settings.CHAT_SEND_RATE = "nonsense"
    with pytest.raises(ImproperlyConfigured):
        get_send_rate()


async def test_redis_away_lets_the_send_through_and_says_so(caplog):
    """The database may be up while Redis is not: sends are not refused for it."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RedisRateLimiter(limit=1, window=10, url=f"redis://127.0.0.1:{port}/0")
    assert await limiter.hit("alice") is True
    assert await limiter.hit("alice") is True  # no limit can be kept without Redis
    assert "rate limit unavailable" in caplog.text
    assert await limiter.retry_after("alice") == 0


async def test_a_bug_in_the_limiter_is_not_mistaken_for_an_outage():
    limiter = RedisRateLimiter(limit=1, window=10, url="not-a-redis-url")
    with pytest.raises(ValueError):
        await limiter.hit("alice")


# ---- per socket ----------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_its_rate():
    from chat.ratelimit import TokenBucket
    from chat.tests.test_presence import FakeClock as Clock

    clock = Clock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.advance(100)  # never more than the burst
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_throttle_allows_one_per_interval_per_key():
    from chat.ratelimit import Throttle
    from chat.tests.test_presence import FakeClock as Clock

    clock = Clock()
    throttle = Throttle(interval=1.0, clock=clock, keys_tracked=2)
    assert [throttle.allow("a"), throttle.allow("a"), throttle.allow("b")] == [True, False, True]
    clock.advance(0.99)
    assert throttle.allow("a") is False
    clock.advance(0.02)
    assert throttle.allow("a") is True
    clock.advance(5)
    assert throttle.allow("c") is True  # idle keys are forgotten, memory stays bounded
    assert len(throttle._last) <= 2
