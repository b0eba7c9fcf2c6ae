"""Reads of the chat domain, returning wire-shaped dicts.

Every function returns plain data (never model instances), so the async
consumer that calls them through `database_sync_to_async` cannot trigger a lazy
query. Each one is a constant number of queries, whatever the room's size.

Who may read a room is decided in one place, `rooms_readable_by` (and its raw
SQL twin `READABLE_SQL` for the statements chat/store.py runs on the event
loop): every read of a room, its messages or its members goes through it.

One module per concern, all of it imported as `chat.selectors`:
`access.py` (the rule and the checks built on it), `wire.py` (the wire
shapes, and message rows made into them), `messages.py` (stored messages)
and `rooms.py` (rooms and their members).
"""

from .access import READABLE_SQL, readable_sql, readers_among, room_access, room_readable, rooms_readable_by
from .messages import (
    CHANGES_PAGE, LATEST_PAGE, SINCE_PAGE, message_at, message_by_client_id, message_by_id, message_changes,
    messages_after, messages_before, messages_latest, messages_since, messages_stored_since, room_rev,
)
from .rooms import room_info, room_infos_for_members, room_list, room_member_ids
from .wire import (
    ATTACHMENT_COLUMNS, MessageDict, ReactionDict, ReplyDict, RoomDict, UserDict, _messages, message_to_dict,
    message_wire, messages_to_dicts, reactions_wire, reply_wire, timestamp_to_wire,
)

__all__ = [
    "ATTACHMENT_COLUMNS", "CHANGES_PAGE", "LATEST_PAGE", "READABLE_SQL", "SINCE_PAGE", "MessageDict", "ReactionDict",
    "ReplyDict", "RoomDict", "UserDict", "_messages", "message_at", "message_by_client_id", "message_by_id",
    "message_changes", "message_to_dict", "message_wire", "messages_after", "messages_before", "messages_latest",
    "messages_since", "messages_stored_since", "messages_to_dicts", "reactions_wire", "readable_sql",
    "readers_among", "reply_wire", "room_access", "room_info", "room_infos_for_members", "room_list",
    "room_member_ids", "room_readable", "room_rev", "rooms_readable_by", "timestamp_to_wire",
]
