"""A socket's requests: in order within a room, side by side across rooms, bounded."""

import asyncio

from chat.lanes import Lanes


class Recorder:
    def __init__(self):
        self.events: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def request(self, name: str, *, wait: bool = False):
        gate = self.gates.setdefault(name, asyncio.Event())
        if not wait:
            gate.set()

        async def run():
            self.events.append(f"start {name}")
            await gate.wait()
            self.events.append(f"end {name}")

        return run


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_of_one_room_run_in_order_and_rooms_side_by_side():
    lanes, rec = Lanes(limit=8), Recorder()
    await lanes.submit("a", rec.request("join a", wait=True))
    await lanes.submit("a", rec.request("send a"))
    await lanes.submit("b", rec.request("send b"))
    await settle()
    # b is not held up by a's slow join; a's send waits for it.
    assert rec.events == ["start join a", "start send b", "end send b"]
    rec.gates["join a"].set()
    await settle()
    assert rec.events[3:] == ["end join a", "start send a", "end send a"]


async def test_a_request_about_no_room_waits_for_everything_before_it():
    lanes, rec = Lanes(limit=8), Recorder()
    await lanes.submit("a", rec.request("read a", wait=True))
    await lanes.submit(None, rec.request("rooms"))
    await lanes.submit("b", rec.request("send b"))
    await settle()
    assert rec.events == ["start read a"]  # `send b` comes after the barrier too
    rec.gates["read a"].set()
    await settle()
    assert rec.events == ["start read a", "end read a", "start rooms", "end rooms", "start send b", "end send b"]


async def test_submit_waits_for_a_place_when_the_socket_has_too_many_in_flight():
    lanes, rec = Lanes(limit=2), Recorder()
    await lanes.submit("a", rec.request("one", wait=True))
    await lanes.submit("b", rec.request("two", wait=True))
    third = asyncio.create_task(lanes.submit("c", rec.request("three")))
    await settle()
    assert not third.done() and len(lanes) == 2
    rec.gates["one"].set()
    await asyncio.wait_for(third, 1)
    rec.gates["two"].set()
    await lanes.settled(1)
    assert len(lanes) == 0


async def test_a_failing_request_does_not_stop_its_lane():
    lanes, rec = Lanes(limit=4), Recorder()

    async def fails():
        raise RuntimeError("boom")

    await lanes.submit("a", fails)
    await lanes.submit("a", rec.request("next"))
    await lanes.settled(1)
    assert rec.events == ["start next", "end next"]


async def test_settled_gives_up_after_its_timeout_and_drain_cancels_the_rest():
    lanes, rec = Lanes(limit=4), Recorder()
    await lanes.submit("a", rec.request("stuck", wait=True))
    await lanes.settled(0.05)
    assert len(lanes) == 1
    await lanes.drain(0.05)
    assert len(lanes) == 0
    assert rec.events == ["start stuck"]
