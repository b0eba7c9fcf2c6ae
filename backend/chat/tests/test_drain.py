"""chat/drain.py's pacing: the closes are spread over the drain's seconds, by the clock."""

import asyncio
import time

from chat import drain


class FakeSocket:
    def __init__(self, busy: float):
        self.busy = busy
        self.closed_at: float | None = None

    async def restart(self) -> None:
        self.closed_at = time.monotonic()
        time.sleep(self.busy)  # the loop's own work for a close (the handshake, the clean-up)


class FakeHub:
    stopping = False

    def __init__(self, sockets):
        self.sockets = sockets

    def local_sockets(self):
        return list(self.sockets)


async def test_the_closes_are_spread_over_the_drain_and_a_busy_loop_does_not_stretch_it(monkeypatch):
    # 1,000 closes in 1 s is a step of 1 ms; each close keeps the loop busy 0.5 ms, so
    # sleeps of one step each would end about 0.7 s late (the loop wakes late from each).
    sockets = [FakeSocket(busy=0.0005) for _ in range(1000)]
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub(sockets))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await drain.drain(seconds=1.0, applications=[])
    took = time.monotonic() - started
    assert drain.draining()
    assert all(s.closed_at is not None for s in sockets)
    closes = sorted(s.closed_at - started for s in sockets)
    assert closes[0] < 0.1  # the first at once
    assert closes[len(closes) // 2] > 0.3  # spread, not all at the start
    assert closes[-1] > 0.8
    assert took < 1.25, took


async def test_a_process_without_sockets_stops_at_once(monkeypatch):
    monkeypatch.setattr(drain, "existing_hub", lambda: FakeHub([]))
    monkeypatch.setattr(drain, "_draining", False)
    started = time.monotonic()
    await asyncio.wait_for(drain.drain(seconds=5.0, applications=[]), 1)
    assert time.monotonic() - started < 0.5
