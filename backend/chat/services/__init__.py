"""Writes of the chat domain: each one transaction, keyword-only, plain data out.

errors.py         what the writes refuse (RoomNotFound, RoomForbidden, SendLimited, ...)
rooms.py          joining (a public room made on the way), creating, leaving for good, the topic
members.py        a private room's invitations and removals
dms.py            direct messages: one `dm-` room per set of users
enter.py          a socket's join: the membership and a page, in one call (EnterStatement)
send.py           a `send`: the message stored with the room's next seq, once per client_id
sendstatement.py  the send as PostgreSQL's single statement (SendStatement)
sendsqlite.py     the same steps as one transaction on SQLite
readmarkers.py    how far a member has read a room

Callers import from here (`services.X`, `from chat.services import X`). A test
that replaces a name a function looks up replaces it in that function's module
(chat.services.rooms.rooms_readable_by): the function does not look here.
"""

from .dms import DM_MAX_OTHERS, DM_NAME_MAX, dm_create, dm_members, dm_name
from .enter import EnterStatement, room_enter
from .errors import (
    InvalidAttachment, MessageNotFound, RoomExists, RoomForbidden, RoomNotFound, SendLimited, UserNotFound,
)
from .members import member_invite, member_remove, users_by_username
from .readmarkers import read_marker_move
from .rooms import ROOM_MAKE_SQL, refuse_dm_name, room_create, room_forget, room_join, room_make, topic_set
from .send import message_create, message_store
from .sendstatement import REPLY_EXCERPT, SendRate, SendStatement

__all__ = [
    "DM_MAX_OTHERS", "DM_NAME_MAX", "REPLY_EXCERPT", "ROOM_MAKE_SQL", "EnterStatement", "InvalidAttachment",
    "MessageNotFound", "RoomExists", "RoomForbidden", "RoomNotFound", "SendLimited", "SendRate", "SendStatement",
    "UserNotFound", "dm_create", "dm_members", "dm_name", "member_invite", "member_remove", "message_create",
    "message_store", "read_marker_move", "refuse_dm_name", "room_create", "room_enter", "room_forget", "room_join", "room_make",
    "topic_set", "users_by_username",
]
