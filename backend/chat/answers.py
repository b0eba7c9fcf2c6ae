"""How a socket's request frame is answered: the handler of each frame type
(the consumer's mixins': joinactions.py, roomactions.py, messageactions.py,
notifyactions.py) and the `error` each way of failing maps to.

A mixin of the consumer (consumers.ChatConsumer), like those: the consumer
takes a frame in, counts it against the socket's limits and queues it on its
lane (chat/lanes.py); `_handle` runs it when its turn comes and sends what
the handler returns, or the error. A handler's answer never carries a
traceback: what no handler expected is a generic `server_error`, logged here.
"""

from __future__ import annotations

import logging

from chat import events, frames, services
from chat.frames import FrameError
from chat.joinactions import JoinActions
from chat.messageactions import MessageActions
from chat.notifyactions import NotifyActions
from chat.roomactions import FORBIDDEN, RoomActions

log = logging.getLogger(__name__)

INVALID_ATTACHMENT = "an attachment is not one of your uploads, or a message holds it already"
# Requests whose only effect is their answer: not worth running once the socket
# is gone or closing (closed as too slow to read, it may hold a thousand of them).
ANSWER_ONLY = (frames.History, frames.Search, frames.Changes, frames.Rooms)


class Answers:
    """Needs the consumer's conn, flow and send_frame."""

    async def _handle(self, frame) -> None:
        await self.flow.writable()  # queued while the output was fine; it may not be now
        if self.flow.closed and isinstance(frame, ANSWER_ONLY):
            return  # nobody to answer (the socket's writes still count: a `send` is stored)
        try:
            reply = await self.handlers[type(frame)](self, frame)
        except FrameError as error:
            reply = self._error(error)
        except services.RoomForbidden:
            reply = frames.error(code="forbidden", detail=FORBIDDEN, ref=frame.ref)
        except services.MessageNotFound as error:
            reply = frames.error(code="not_found", detail=f"no message #{error.seq} in '{error.room}'", ref=frame.ref)
        except services.UserNotFound as error:
            reply = frames.error(code="not_found", detail=f"no user is named '{error.username}'", ref=frame.ref)
        except services.InvalidAttachment:
            reply = frames.error(code="invalid_attachment", detail=INVALID_ATTACHMENT, ref=frame.ref)
        except Exception as error:
            events.log_failure(log, f"socket {self.conn} failed on {frame!r}", error)
            reply = frames.error(code="server_error", detail="the server could not do that", ref=frame.ref)
        if reply is not None:
            await self.send_frame(reply)

    @staticmethod
    def _error(error: FrameError) -> dict:
        return frames.error(code=error.code, detail=error.detail, ref=error.ref)

    @staticmethod
    def _refused(ref: str | None) -> dict:
        return frames.error(code="rate_limited", detail="too many frames; slow down", ref=ref)

    async def on_ping(self, frame: frames.Ping):
        return frames.pong(frame.ref)

    handlers = {
        frames.Ping: on_ping,
        frames.Rooms: RoomActions.on_rooms,
        frames.Join: JoinActions.on_join,
        frames.Leave: JoinActions.on_leave,
        frames.Send: MessageActions.on_send,
        frames.History: MessageActions.on_history,
        frames.Typing: JoinActions.on_typing,
        frames.Read: MessageActions.on_read,
        frames.Create: RoomActions.on_create,
        frames.Dm: RoomActions.on_dm,
        frames.Invite: RoomActions.on_invite,
        frames.Remove: RoomActions.on_remove,
        frames.Topic: RoomActions.on_topic,
        frames.Edit: MessageActions.on_edit,
        frames.Delete: MessageActions.on_delete,
        frames.React: MessageActions.on_react,
        frames.Changes: MessageActions.on_changes,
        frames.Search: MessageActions.on_search,
        frames.PushSubscribe: NotifyActions.on_push_subscribe,
        frames.PushUnsubscribe: NotifyActions.on_push_unsubscribe,
        frames.Notify: NotifyActions.on_notify,
        frames.NotifySettings: NotifyActions.on_notify_settings,
    }
