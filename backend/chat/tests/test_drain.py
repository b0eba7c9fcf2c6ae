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


REAL_SLEEP = asyncio.sleep


class VirtualClock:
    """The drain's clock and sleep, and the sockets' work, on a clock of the test's
    own: the pacing is checked to the millisecond whatever else the machine runs."""

    WAKES_LATE = 0.0002  # every sleep, as a loop with other work wakes from one

    def __init__(self):
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay + self.WAKES_LATE
        await REAL_SLEEP(0)  # the closes started meanwhile run


class BusySocket:
    """A socket whose close keeps the loop busy for `busy` seconds of the clock."""

    def __init__(self, clock: VirtualClock, busy: float):
        self.clock, self.busy = clock, busy
        self.closed_at: float | None = None

    async def restart(self) -> None:
        self.closed_at = self.clock.now
        self.clock.now += self.busy


async def test_the_closes_are_spread_over_the_drain_and_a_busy_loop_does_not_stretch_it(monkeypatch):
    # 1,000 closes in 1 s is a step of 1 ms, and each close keeps the loop busy 0.5 ms.
    # Paced by sleeps of one step each, the drain would take its second plus the
    # closes' own time and the late wakes (1.7 s); paced by the clock, about its second.
    clock = VirtualClock()
    monkeypatch.setattr(drain, "_clock", clock.time)
    monkeypatch.setattr(drain, "_sleep", clock.sleep)
    sockets = [BusySocket(clock, busy=0.0005) for _ in range(1000)]
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub(sockets))
    monkeypatch.setattr(drain, "_draining", False)
    await drain.drain(seconds=1.0, applications=[])
    assert drain.draining()
    closes = sorted(s.closed_at for s in sockets)
    assert closes[0] < 0.01  # the first at once
    assert 0.45 < closes[len(closes) // 2] < 0.55  # spread evenly
    assert 0.99 < closes[-1] < 1.01 and clock.now < 1.01, (closes[-1], clock.now)


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
