"""`parse`: one client text frame to its validated frame, by a parser per `type`.

Unknown extra fields in a client frame are ignored, so a newer client can talk
to an older server.
"""

from __future__ import annotations

from chat.searchquery import EmptyQuery, parse_query

from .fields import Fields, FrameError, decode, frame_ref, is_storable
from .inbound import (
    Changes, Create, Delete, Dm, Edit, Frame, History, Invite, Join, Leave, Notify, NotifySettings, Ping,
    PushSubscribe, PushUnsubscribe, React, Read, Remove, Rooms, Search, Send, Topic, Typing,
)
from .limits import (
    AUTH_BYTES, DEFAULT_HISTORY_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_CLIENT_ID_LENGTH, MAX_DM_USERS, MAX_ENDPOINT_LENGTH,
    MAX_HISTORY_LIMIT, MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT, MAX_TOPIC_LENGTH, MAX_USERNAME_LENGTH, NOTIFY_LEVELS,
    P256DH_BYTES, ROOM_KINDS_CREATED,
)


def _parse_ping(f: Fields) -> Frame:
    return Ping(ref=f.ref)


def _parse_rooms(f: Fields) -> Frame:
    return Rooms(ref=f.ref)


def _parse_join(f: Fields) -> Frame:
    room = f.room()
    return Join(room=room, since=f.optional_integer("since", 0), since_rev=f.optional_integer("since_rev", 0), ref=f.ref)


def _parse_leave(f: Fields) -> Frame:
    forget = f.data.get("forget") is not None and f.boolean("forget")
    return Leave(room=f.room(), ref=f.ref, forget=forget)


def _parse_send(f: Fields) -> Frame:
    room = f.room()
    client_id = f.string("client_id", MAX_CLIENT_ID_LENGTH)
    attachments = f.attachments()
    # With attachments the body may be empty; never both.
    body = f.body(may_be_empty=bool(attachments))
    return Send(room=room, body=body, client_id=client_id, reply_to=f.optional_integer("reply_to", 1), ref=f.ref,
                attachments=attachments)


def _parse_history(f: Fields) -> Frame:
    room = f.room()
    if (f.data.get("before") is None) == (f.data.get("after") is None):
        raise f.fail("'history' takes one of 'before' and 'after'")
    before, after = f.optional_integer("before", 1), f.optional_integer("after", 0)
    limit = f.integer("limit", 1, MAX_HISTORY_LIMIT, default=DEFAULT_HISTORY_LIMIT)
    return History(room=room, before=before, after=after, limit=limit, ref=f.ref)


def _parse_edit(f: Fields) -> Frame:
    room, seq = f.room(), f.integer("seq", 1)
    return Edit(room=room, seq=seq, body=f.body(), ref=f.ref)


def _parse_delete(f: Fields) -> Frame:
    return Delete(room=f.room(), seq=f.integer("seq", 1), ref=f.ref)


def _parse_react(f: Fields) -> Frame:
    room, seq, active = f.room(), f.integer("seq", 1), f.boolean("active")
    return React(room=room, seq=seq, emoji=f.emoji(), active=active, ref=f.ref)


def _parse_changes(f: Fields) -> Frame:
    return Changes(room=f.room(), since_rev=f.integer("since_rev", 0), ref=f.ref)


def _parse_search(f: Fields) -> Frame:
    try:
        terms = parse_query(f.string("query", MAX_QUERY_LENGTH, min_length=0))
    except EmptyQuery:
        raise f.fail("a search needs a word, a \"phrase\", from: or in:", code="invalid_query") from None
    room = f.room() if f.data.get("room") is not None else None
    before = f.optional_integer("before", 1)
    limit = f.integer("limit", 1, MAX_SEARCH_LIMIT, default=DEFAULT_SEARCH_LIMIT)
    return Search(terms=terms, room=room, before=before, limit=limit, ref=f.ref)


def _parse_typing(f: Fields) -> Frame:
    return Typing(room=f.room(), active=f.boolean("active"), ref=f.ref)


def _parse_read(f: Fields) -> Frame:
    return Read(room=f.room(), seq=f.integer("seq", 0), ref=f.ref)


def _parse_create(f: Fields) -> Frame:
    room = f.room()
    kind = f.data.get("kind")
    if kind not in ROOM_KINDS_CREATED:
        raise f.fail("'kind' must be \"public\" or \"private\"")
    topic = f.string("topic", MAX_TOPIC_LENGTH, min_length=0) if f.data.get("topic") is not None else ""
    return Create(room=room, kind=kind, topic=topic, ref=f.ref)


def _parse_dm(f: Fields) -> Frame:
    users = f.data.get("users")
    if not isinstance(users, list) or not 1 <= len(users) <= MAX_DM_USERS:
        raise f.fail(f"'users' must be a list of 1 to {MAX_DM_USERS} usernames")
    for username in users:
        if not isinstance(username, str) or not is_storable(username) or not 1 <= len(username) <= MAX_USERNAME_LENGTH:
            raise f.fail(f"each of 'users' must be a username of 1 to {MAX_USERNAME_LENGTH} characters")
    return Dm(users=tuple(users), ref=f.ref)


def _parse_invite(f: Fields) -> Frame:
    return Invite(room=f.room(), user=f.string("user", MAX_USERNAME_LENGTH), ref=f.ref)


def _parse_remove(f: Fields) -> Frame:
    return Remove(room=f.room(), user=f.string("user", MAX_USERNAME_LENGTH), ref=f.ref)


def _parse_topic(f: Fields) -> Frame:
    return Topic(room=f.room(), topic=f.string("topic", MAX_TOPIC_LENGTH, min_length=0), ref=f.ref)


def _parse_push_subscribe(f: Fields) -> Frame:
    endpoint = f.endpoint()
    return PushSubscribe(
        endpoint=endpoint, p256dh=f.push_key("p256dh", P256DH_BYTES), auth=f.push_key("auth", AUTH_BYTES), ref=f.ref
    )


def _parse_push_unsubscribe(f: Fields) -> Frame:
    return PushUnsubscribe(endpoint=f.string("endpoint", MAX_ENDPOINT_LENGTH), ref=f.ref)


def _parse_notify(f: Fields) -> Frame:
    room = f.room()
    level = f.data.get("level")
    if level not in NOTIFY_LEVELS:
        raise f.fail("'level' must be \"all\", \"mentions\" or \"nothing\"")
    return Notify(room=room, level=level, ref=f.ref)


def _parse_notify_settings(f: Fields) -> Frame:
    return NotifySettings(ref=f.ref)


_PARSERS = {
    "ping": _parse_ping,
    "rooms": _parse_rooms,
    "join": _parse_join,
    "leave": _parse_leave,
    "send": _parse_send,
    "history": _parse_history,
    "typing": _parse_typing,
    "read": _parse_read,
    "create": _parse_create,
    "dm": _parse_dm,
    "invite": _parse_invite,
    "remove": _parse_remove,
    "topic": _parse_topic,
    "edit": _parse_edit,
    "delete": _parse_delete,
    "react": _parse_react,
    "changes": _parse_changes,
    "search": _parse_search,
    "push_subscribe": _parse_push_subscribe,
    "push_unsubscribe": _parse_push_unsubscribe,
    "notify": _parse_notify,
    "notify_settings": _parse_notify_settings,
}


def parse(text: str | bytes) -> Frame:
    """One client text frame → a validated frame, or FrameError."""
    data = decode(text)
    ref = frame_ref(data)
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise FrameError("bad_frame", "unknown or missing 'type'", ref)
    return parser(Fields(data, ref))
