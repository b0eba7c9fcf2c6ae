"""Deadlines on dependency calls: a stall costs one bounded wait, then fails fast."""

import asyncio
import time

import pytest

from chat import deadlines


@pytest.fixture(autouse=True)
def quick(settings):
    settings.CHAT_REDIS_TIMEOUT = 0.1
    settings.CHAT_DB_TIMEOUT = 0.2
    deadlines.redis_recovered()
    yield
    deadlines.redis_recovered()


async def hang():
    await asyncio.sleep(3600)


async def answer():
    return "ok"


async def test_a_redis_call_that_hangs_fails_after_the_timeout_then_at_once():
    start = time.monotonic()
    with pytest.raises(deadlines.DependencyTimeout):
        await deadlines.redis(hang(), "hung")
    assert 0.09 < time.monotonic() - start < 1
    # Redis counts as stalled for a moment: no second wait.
    start = time.monotonic()
    with pytest.raises(deadlines.DependencyTimeout):
        await deadlines.redis(answer(), "after")
    assert time.monotonic() - start < 0.05


async def test_after_the_cool_down_redis_is_tried_again(monkeypatch):
    with pytest.raises(deadlines.DependencyTimeout):
        await deadlines.redis(hang())
    monkeypatch.setattr(deadlines, "_stalled_until", time.monotonic() - 1)
    assert await deadlines.redis(answer()) == "ok"


def test_a_timeout_counts_as_an_outage_not_a_bug():
    from chat.events import is_outage

    assert is_outage(deadlines.DependencyTimeout("x"))


@pytest.mark.django_db(transaction=True)
async def test_a_database_call_that_hangs_fails_after_the_timeout():
    def slow():
        time.sleep(1)
        return "late"

    start = time.monotonic()
    with pytest.raises(deadlines.DependencyTimeout):
        await deadlines.db(slow)()
    assert time.monotonic() - start < 0.8

    def quick_query():
        from django.contrib.auth import get_user_model

        return get_user_model().objects.count()

    await asyncio.sleep(1)  # the abandoned call finishes on its own
    assert await deadlines.db(quick_query)() == 0
