"""Presence announcements: immediate while quiet, merged per window while busy."""

import asyncio

import pytest

from chat.announce import PresenceAnnouncer, net_changes

ALICE = {"id": 1, "username": "alice"}
BOB = {"id": 2, "username": "bob"}
CAROL = {"id": 3, "username": "carol"}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_net_changes_keeps_each_users_outcome_once_in_first_seen_order():
    assert net_changes([("join", ALICE), ("join", BOB)]) == ([ALICE, BOB], [])
    assert net_changes([("leave", ALICE)]) == ([], [ALICE])
    # Came and went within the window: where it ended, which each socket's roster
    # drops unless that socket joined in between and was told of the coming.
    assert net_changes([("join", ALICE), ("leave", ALICE)]) == ([], [ALICE])
    assert net_changes([("leave", BOB), ("join", BOB)]) == ([BOB], [])
    # Flapping ends where it ended.
    assert net_changes([("join", ALICE), ("leave", ALICE), ("join", ALICE)]) == ([ALICE], [])
    assert net_changes([("leave", CAROL), ("join", CAROL), ("leave", CAROL)]) == ([], [CAROL])
    assert net_changes([]) == ([], [])


def _recorder():
    frames: list[dict] = []

    async def send(**frame):
        frames.append(frame)

    return frames, send


async def test_a_quiet_room_announces_each_change_at_once_with_its_exclusion():
    frames, send = _recorder()
    announcer = PresenceAnnouncer(send=send, burst=3, window=0.05, clock=Clock())
    await announcer.announce(room="r", joins=[ALICE], exclude_conn="c1")
    await announcer.announce(room="r", leaves=[BOB], exclude_conn="c2")
    assert frames == [
        {"room": "r", "joins": [ALICE], "leaves": [], "exclude_conn": "c1"},
        {"room": "r", "joins": [], "leaves": [BOB], "exclude_conn": "c2"},
    ]


async def test_a_busy_room_merges_what_comes_past_the_burst_into_one_frame():
    frames, send = _recorder()
    clock = Clock()
    announcer = PresenceAnnouncer(send=send, burst=2, window=0.05, clock=clock)
    users = [{"id": i, "username": f"u{i}"} for i in range(10, 20)]
    for user in users:
        await announcer.announce(room="r", joins=[user], exclude_conn=f"c{user['id']}")
    await announcer.announce(room="r", leaves=[users[9]])  # came and went: a leave, for whoever heard of the join
    await announcer.announce(room="other", joins=[ALICE])  # another room is not held
    assert [f["joins"] for f in frames] == [[users[0]], [users[1]], [ALICE]]
    await asyncio.sleep(0.1)
    assert frames[3] == {"room": "r", "joins": users[2:9], "leaves": [users[9]], "exclude_conn": None}
    assert len(frames) == 4


async def test_the_burst_allowance_comes_back_once_the_window_has_passed():
    frames, send = _recorder()
    clock = Clock()
    announcer = PresenceAnnouncer(send=send, burst=1, window=0.05, clock=clock)
    await announcer.announce(room="r", joins=[ALICE])
    clock.now += 1.0
    await announcer.announce(room="r", joins=[BOB])
    assert [f["joins"] for f in frames] == [[ALICE], [BOB]]


async def test_close_cancels_held_changes_without_leaving_the_room_held():
    frames, send = _recorder()
    announcer = PresenceAnnouncer(send=send, burst=0, window=60, clock=Clock())
    await announcer.announce(room="r", joins=[ALICE])
    await announcer.close()
    assert frames == []
    assert announcer._pending == {}


async def test_a_failing_merged_send_is_logged_not_raised(caplog):
    async def broken(**frame):
        raise ConnectionError("redis away")

    announcer = PresenceAnnouncer(send=broken, burst=0, window=0.01, clock=Clock())
    await announcer.announce(room="r", joins=[ALICE])
    await asyncio.sleep(0.05)
    assert "merged presence frame for r failed" in caplog.text
    assert announcer._pending == {}


@pytest.mark.parametrize("burst", [1, 5])
async def test_changes_keep_their_order_behind_a_held_frame(burst):
    frames, send = _recorder()
    announcer = PresenceAnnouncer(send=send, burst=burst, window=0.02, clock=Clock())
    for _ in range(burst):
        await announcer.announce(room="r", joins=[CAROL])
    await announcer.announce(room="r", joins=[ALICE])
    await announcer.announce(room="r", leaves=[ALICE])
    await announcer.announce(room="r", joins=[ALICE])
    await asyncio.sleep(0.06)
    assert frames[-1]["joins"] == [ALICE] and frames[-1]["leaves"] == []
