"""chat/drain.py's pacing: the closes are spread over the drain's seconds, by the
clock, when another process can take the sockets; at once when none can."""

import asyncio
import time
import types

from chat import drain


class FakeSocket:
    def __init__(self, busy: float):
        self.busy = busy
        self.closed_at: float | None = None

    async def restart(self) -> None:
        self.closed_at = time.monotonic()
        # The loop's own work for a close (the handshake, the clean-up): spun,
        # not slept, as work is. A time.sleep of 0.5 ms wakes late on a busy
        # machine, 1,000 of them can add up to well over the drain's second,
        # and the drain cannot end before its own closes (a fresh-clone run
        # once took 1.7 s).
        end = time.perf_counter() + self.busy
        while time.perf_counter() < end:
            pass


class FakeHub:
    def __init__(self, sockets, others=1):
        self.presence = types.SimpleNamespace(stopping=False)
        self.sockets = sockets
        self.others = others  # other processes on the channel layer; an exception: Redis did not answer

    def local_sockets(self):
        return list(self.sockets)

    async def other_processes(self):
        if isinstance(self.others, Exception):
            raise self.others
        return self.others


async def drain_time(monkeypatch, sockets, *, others: int, seconds: float) -> float:
    """How long drain() takes over `sockets`, with `others` other processes."""
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub(sockets, others=others))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await drain.drain(seconds=seconds, applications=[])
    return time.monotonic() - started


async def test_the_closes_are_spread_over_the_drain_and_a_busy_loop_does_not_stretch_it(monkeypatch):
    # 1,000 closes in 1 s is a step of 1 ms, and each close keeps the loop busy 0.5 ms.
    # Paced by sleeps of one step each, the drain would take its second plus the closes'
    # own time (1.5 s and more: the loop wakes late from every sleep); paced by the clock,
    # the longer of the two. What the closes take on this machine at this moment is
    # measured first, unpaced (no other process: all at once): a busy two-core CI
    # machine runs them at a fraction of a laptop's speed.
    unpaced = await drain_time(monkeypatch, [FakeSocket(busy=0.0005) for _ in range(1000)], others=0, seconds=1.0)
    sockets = [FakeSocket(busy=0.0005) for _ in range(1000)]
    started = time.monotonic()
    took = await drain_time(monkeypatch, sockets, others=1, seconds=1.0)
    assert drain.draining()
    assert all(s.closed_at is not None for s in sockets)
    closes = sorted(s.closed_at - started for s in sockets)
    assert closes[0] < 0.1  # the first at once
    assert closes[len(closes) // 2] > 0.3  # spread, not all at the start
    assert closes[-1] > 0.8
    assert took < max(1.0, unpaced) + 0.5 * min(1.0, unpaced), f"took {took:.2f} s; unpaced {unpaced:.2f} s"


async def test_a_process_without_sockets_stops_at_once(monkeypatch):
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub([]))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await asyncio.wait_for(drain.drain(seconds=5.0, applications=[]), 1)
    assert time.monotonic() - started < 0.5


async def test_with_no_other_process_the_sockets_are_closed_at_once(monkeypatch):
    sockets = [FakeSocket(busy=0) for _ in range(200)]
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub(sockets, others=0))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await asyncio.wait_for(drain.drain(seconds=5.0, applications=[]), 2)
    assert all(s.closed_at is not None and s.closed_at - started < 0.5 for s in sockets)


async def test_when_the_other_processes_cannot_be_counted_the_closes_are_still_spread(monkeypatch):
    sockets = [FakeSocket(busy=0) for _ in range(100)]
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub(sockets, others=TimeoutError("redis")))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await drain.drain(seconds=0.6, applications=[])
    closes = sorted(s.closed_at - started for s in sockets)
    assert closes[0] < 0.1 and closes[-1] > 0.45
