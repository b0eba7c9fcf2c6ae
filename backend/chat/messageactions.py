"""The consumer's message frames of version 2: `edit`, `delete`, `react`,
`changes` and `search`, and the unasked `update` the first three cause.

A mixin of the consumer (consumers.ChatConsumer), like roomactions.py: each
handler needs the room joined on this socket, writes through chat/revisions.py
(which asks selectors.room_access, the one access rule, and takes the room's
next rev), answers, and, when something changed, tells every socket that
joined the room through events.py once the write has committed. These frames
cost what every frame costs (a token of the socket's bucket, limits.py), not
the send rate: they store no new message. `search` needs no joined room: it
reads every room the user may read (chat/search.py).
"""

from __future__ import annotations

from chat import events, frames, revisions, search, selectors
from chat.deadlines import db
from chat.frames import FrameError
from chat.roomactions import FORBIDDEN


class MessageActions:
    """Needs the consumer's account, send_frame and _require_joined."""

    async def on_edit(self, frame: frames.Edit):
        self._require_joined(frame)
        change = db(revisions.message_edit)(user=self.account, room=frame.room, seq=frame.seq, body=frame.body)
        return await self._changed("edited", change, frame.ref)

    async def on_delete(self, frame: frames.Delete):
        self._require_joined(frame)
        change = db(revisions.message_delete)(user=self.account, room=frame.room, seq=frame.seq)
        return await self._changed("deleted", change, frame.ref)

    async def on_react(self, frame: frames.React):
        self._require_joined(frame)
        change = db(revisions.message_react)(
            user=self.account, room=frame.room, seq=frame.seq, emoji=frame.emoji, active=frame.active
        )
        try:
            return await self._changed("reacted", change, frame.ref)
        except revisions.TooManyReactions:
            raise FrameError(
                "too_many_reactions", "a message holds at most 20 different emoji", frame.ref
            ) from None

    async def on_changes(self, frame: frames.Changes):
        self._require_joined(frame)
        messages, has_more, rev = await db(selectors.message_changes)(
            room=frame.room, since_rev=frame.since_rev, user=self.account
        )
        return frames.changes(room=frame.room, messages=messages, has_more=has_more, rev=rev, ref=frame.ref)

    async def on_search(self, frame: frames.Search):
        try:
            messages, has_more = await db(search.message_search)(
                user=self.account, terms=frame.terms, room=frame.room, before=frame.before, limit=frame.limit
            )
        except search.SearchForbidden:
            raise FrameError("forbidden", FORBIDDEN, frame.ref) from None
        return frames.search(messages=messages, has_more=has_more, ref=frame.ref)

    async def _changed(self, kind: str, change, ref: str | None) -> None:
        """Answers the change, then tells the room when something changed."""
        try:
            message, changed = await change
        except revisions.MessageForbidden as error:
            raise FrameError("forbidden", error.why, ref) from None
        await self.send_frame(frames.changed(kind, message=message, ref=ref))
        if changed:
            await events.message_changed(message)
