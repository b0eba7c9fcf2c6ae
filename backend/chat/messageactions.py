"""The consumer's message frames: `send`, `history` and `read`, and version 2's
`edit`, `delete`, `react`, `changes` and `search`; and the unasked `message` a
`send` causes and `update` an `edit`, `delete` or `react` causes.

A mixin of the consumer (consumers.ChatConsumer), like roomactions.py. All but
`search` need the room joined on this socket. `send` stores through
chat/store.py (one statement on the event loop with PostgreSQL), answers
`sent`, then tells the room through events.py and starts the message's pushes
(chat/notifications/push.py). `edit`, `delete` and `react` write through
chat/revisions.py (which asks selectors.room_access, the one access rule, and
takes the room's next rev), answer, and, when something changed, tell every
socket that joined the room through events.py once the write has committed.
These three cost what every frame costs (a token of the socket's bucket,
limits.py), not the send rate: they store no new message. `search` reads
every room the user may read (chat/search.py).
"""

from __future__ import annotations

from chat import events, frames, revisions, search, selectors, services, store
from chat.deadlines import db
from chat.frames import FrameError
from chat.notifications import push
from chat.ratelimit import get_send_rate
from chat.roomactions import FORBIDDEN


class MessageActions:
    """Needs the consumer's account and send_frame, and JoinActions' _require_joined and _stop_typing."""

    async def on_send(self, frame: frames.Send):
        self._require_joined(frame)
        try:
            message, created, anyone_wants_all = await store.message_store(
                user=self.account, room=frame.room, body=frame.body, client_id=frame.client_id,
                rate=get_send_rate(), reply_to=frame.reply_to, attachments=frame.attachments,
            )
        except services.SendLimited:
            # A resend is answered with the stored message whatever the rate says.
            message = await db(selectors.message_by_client_id)(user=self.account, client_id=frame.client_id)
            if message is None:
                raise FrameError("rate_limited", "too many messages; wait a few seconds", frame.ref) from None
            created = False
        await self.send_frame(frames.sent(message=message, ref=frame.ref))
        if created:
            await events.message_created(message)
            push.message_stored(message, anyone_wants_all=anyone_wants_all)  # in the background
        await self._stop_typing(frame.room)

    async def on_history(self, frame: frames.History):
        self._require_joined(frame)
        if frame.after is not None:
            page = db(selectors.messages_after)(room=frame.room, after=frame.after, limit=frame.limit, user=self.account)
        else:
            page = db(selectors.messages_before)(
                room=frame.room, before=frame.before, limit=frame.limit, user=self.account
            )
        messages, has_more = await page
        return frames.history(room=frame.room, messages=messages, has_more=has_more, ref=frame.ref)

    async def on_read(self, frame: frames.Read):
        self._require_joined(frame)
        await db(services.read_marker_move)(user=self.account, room=frame.room, seq=frame.seq)

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
