"""The consumer's notification frames of version 2: `push_subscribe`,
`push_unsubscribe`, `notify` and `notify_settings`, and the unasked `notify`
the user's other sockets hear.

A mixin of the consumer (consumers.ChatConsumer), like roomactions.py: each
handler writes or reads through chat/notifications (`notify` asks
selectors.room_access, the one access rule), answers, and tells the user's
other sockets through events.py after the write has committed. The pushes a
new message causes start in MessageActions.on_send (messageactions.py,
chat/notifications/push.py).
"""

from __future__ import annotations

from chat import events, frames
from chat.deadlines import db
from chat.notifications import selectors, services


class NotifyActions:
    """Needs the consumer's account, user, conn and send_frame."""

    async def on_push_subscribe(self, frame: frames.PushSubscribe):
        await db(services.push_subscribe)(user=self.account, endpoint=frame.endpoint, p256dh=frame.p256dh,
                                          auth=frame.auth)
        return frames.push_subscribed(frame.ref)

    async def on_push_unsubscribe(self, frame: frames.PushUnsubscribe):
        await db(services.push_unsubscribe)(user=self.account, endpoint=frame.endpoint)
        return frames.push_unsubscribed(frame.ref)

    async def on_notify(self, frame: frames.Notify):
        # A room the user may not read is services.RoomForbidden: `forbidden`, as everywhere.
        await db(services.notify_level_set)(user=self.account, room=frame.room, level=frame.level)
        await self.send_frame(frames.notify(room=frame.room, level=frame.level, ref=frame.ref))
        await events.notify_changed(user_id=self.user["id"], room=frame.room, level=frame.level, exclude_conn=self.conn)

    async def on_notify_settings(self, frame: frames.NotifySettings):
        rooms = await db(selectors.notify_settings)(user=self.account)
        return frames.notify_settings(rooms=rooms, ref=frame.ref)
