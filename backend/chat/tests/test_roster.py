"""A socket's roster: what it was told of a room's presence, and what is news to it."""

from chat.roster import Roster

ALICE = {"id": 1, "username": "alice"}
BOB = {"id": 2, "username": "bob"}
CAROL = {"id": 3, "username": "carol"}


def test_a_join_or_leave_the_snapshot_already_reflects_is_no_news():
    roster = Roster([ALICE, BOB])
    assert roster.news([BOB], []) == ([], [])  # joined before the snapshot was read
    assert roster.news([], [CAROL]) == ([], [])  # left before it: never listed


def test_news_is_taken_in():
    roster = Roster([ALICE])
    assert roster.news([BOB], []) == ([BOB], [])
    assert roster.news([BOB], []) == ([], [])  # the same join again, e.g. in a merged frame
    assert roster.news([], [BOB]) == ([], [BOB])
    assert roster.news([], [BOB]) == ([], [])
    assert roster.ids == {ALICE["id"]}


def test_a_merged_frame_is_cut_to_its_news():
    roster = Roster([ALICE, BOB])
    assert roster.news([ALICE, CAROL], [BOB]) == ([CAROL], [BOB])
    assert roster.ids == {ALICE["id"], CAROL["id"]}
