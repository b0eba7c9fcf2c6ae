"""The per-socket limits' typing rule (the bucket and throttles have tests of their own)."""

import pytest

from chat.limits import SocketLimits


@pytest.fixture
def limits(settings):
    settings.CHAT_FRAME_RATE, settings.CHAT_FRAME_BURST, settings.CHAT_MAX_ROOMS_PER_SOCKET = 1, 2, 3
    return SocketLimits()


def test_a_flood_of_starts_passes_once(limits):
    passed = [limits.typing_passes(room="r", active=True, typing=i > 0) for i in range(10)]
    assert passed == [True] + [False] * 9


def test_a_stop_after_a_start_always_passes_and_alternation_is_bounded(limits):
    passed = []
    typing = False
    for i in range(20):
        active = i % 2 == 0
        ok = limits.typing_passes(room="r", active=active, typing=typing)
        passed.append(ok)
        if ok:
            typing = active
    assert passed[:2] == [True, True]
    assert sum(passed) <= 2 * 5  # at most TYPING_CHANGES starts, each with its stop
    assert not typing  # never left on


def test_frames_and_rooms(limits):
    assert [limits.take_frame() for _ in range(3)] == [True, True, False]
    assert limits.may_join(rooms_held=2) and not limits.may_join(rooms_held=3)
