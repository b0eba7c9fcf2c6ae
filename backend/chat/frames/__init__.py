"""The socket's wire frames, declared once (docs/protocol.md).

Inbound: `parse(text)` turns one text frame into a typed, validated frame or
raises `FrameError`; nothing unvalidated reaches a handler. Outbound: one small
builder per server frame, and `dumps` to serialize a frame exactly once.

limits.py    the contract's limits and patterns (room names, what a body's trim removes, ...)
fields.py    FrameError; a frame's JSON decoded, its `ref`, its fields read typed and checked
inbound.py   the client's frames, one frozen dataclass per type (`Frame`, their union)
parsing.py   `parse`: a parser per type, looked up by the frame's `type`
outbound.py  the server's frames, a builder each, and `dumps`

Callers use `frames.X` or `from chat.frames import X`: the consumer's handler
table is keyed by these classes.
"""

from .fields import FrameError, plain_http_allowed
from .inbound import (
    Changes, Create, Delete, Dm, Edit, Frame, History, Invite, Join, Leave, Notify, NotifySettings, Ping,
    PushSubscribe, PushUnsubscribe, React, Read, Remove, Rooms, Search, Send, Topic, Typing,
)
from .limits import (
    AUTH_BYTES, BASE64URL, BODY_TRIMMED, DEFAULT_HISTORY_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_ATTACHMENTS,
    MAX_BODY_LENGTH, MAX_CLIENT_ID_LENGTH, MAX_DM_USERS, MAX_EMOJI_LENGTH, MAX_ENDPOINT_LENGTH, MAX_FRAME_BYTES,
    MAX_HISTORY_LIMIT, MAX_QUERY_LENGTH, MAX_REF_LENGTH, MAX_SEARCH_LIMIT, MAX_SEQ, MAX_TOPIC_LENGTH,
    MAX_USERNAME_LENGTH, NOTIFY_LEVELS, P256DH_BYTES, ROOM_KINDS_CREATED, ROOM_NAME, UPLOAD_ID,
)
from .outbound import (
    changed, changes, dumps, error, history, invited, joined, left, message, notify, notify_settings, pong, presence,
    push_subscribed, push_unsubscribed, removed, room_info, room_removed, rooms, search, sent, typing, update,
)
from .parsing import parse

__all__ = [
    # limits
    "AUTH_BYTES", "BASE64URL", "BODY_TRIMMED", "DEFAULT_HISTORY_LIMIT", "DEFAULT_SEARCH_LIMIT", "MAX_ATTACHMENTS",
    "MAX_BODY_LENGTH", "MAX_CLIENT_ID_LENGTH", "MAX_DM_USERS", "MAX_EMOJI_LENGTH", "MAX_ENDPOINT_LENGTH",
    "MAX_FRAME_BYTES", "MAX_HISTORY_LIMIT", "MAX_QUERY_LENGTH", "MAX_REF_LENGTH", "MAX_SEARCH_LIMIT", "MAX_SEQ",
    "MAX_TOPIC_LENGTH", "MAX_USERNAME_LENGTH", "NOTIFY_LEVELS", "P256DH_BYTES", "ROOM_KINDS_CREATED", "ROOM_NAME",
    "UPLOAD_ID",
    # inbound
    "FrameError", "parse", "plain_http_allowed", "Frame", "Changes", "Create", "Delete", "Dm", "Edit", "History",
    "Invite", "Join", "Leave", "Notify", "NotifySettings", "Ping", "PushSubscribe", "PushUnsubscribe", "React",
    "Read", "Remove", "Rooms", "Search", "Send", "Topic", "Typing",
    # outbound
    "dumps", "changed", "changes", "error", "history", "invited", "joined", "left", "message", "notify",
    "notify_settings", "pong", "presence", "push_subscribed", "push_unsubscribed", "removed", "room_info",
    "room_removed", "rooms", "search", "sent", "typing", "update",
]
