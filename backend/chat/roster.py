"""What one socket has been told about a room's presence: the snapshot in
`joined`, then every `presence` frame sent to it after that.

A presence change reaches a socket late and more than once: it was made in the
store before the snapshot was read but announced after (held for a merged
window, or queued in the channel layer), or it went to the whole room in a
merged frame, the joiner's own socket included. Applied to the roster, such a
change says nothing new, and the socket is spared it: a join of someone the
socket lists, a leave of someone it does not. What is left is what the client
needs to keep its list right, so the frames a socket gets are diffs from its
`joined`, whatever order the store and the channel layer put them in.

Pure data, no I/O: the consumer keeps one roster per joined room.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class Roster:
    __slots__ = ("ids",)

    def __init__(self, users: Iterable[dict]):
        self.ids = {user["id"] for user in users}

    def news(self, joins: Sequence[dict], leaves: Sequence[dict]) -> tuple[list[dict], list[dict]]:
        """The part of a change this socket has not been told; the roster takes it in.

        A frame lists each user once (announce.py nets them), so a user is either
        joining or leaving here, never both."""
        ids = self.ids
        new_joins = [user for user in joins if user["id"] not in ids]
        new_leaves = [user for user in leaves if user["id"] in ids]
        ids.update(user["id"] for user in new_joins)
        ids.difference_update(user["id"] for user in new_leaves)
        return new_joins, new_leaves
