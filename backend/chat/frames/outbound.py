"""The server's frames: one small builder per frame, and `dumps` to serialize a
frame exactly once."""

from __future__ import annotations

import json


def dumps(frame: dict) -> str:
    """The one serialization of an outbound frame: compact, UTF-8 as is."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def _with_ref(frame: dict, ref: str | None) -> dict:
    if ref is not None:
        frame["ref"] = ref
    return frame


def pong(ref: str | None = None) -> dict:
    return _with_ref({"type": "pong"}, ref)


def rooms(rooms_: list[dict], ref: str | None = None) -> dict:
    return _with_ref({"type": "rooms", "rooms": rooms_}, ref)


def joined(
    *, room: str, presence: list[dict], messages: list[dict], has_more: bool, rev: int, ref: str | None = None
) -> dict:
    frame = {
        "type": "joined", "room": room, "presence": presence, "messages": messages, "has_more": has_more, "rev": rev,
    }
    return _with_ref(frame, ref)


def left(*, room: str, ref: str | None = None) -> dict:
    return _with_ref({"type": "left", "room": room}, ref)


def room_info(info: dict, ref: str | None = None) -> dict:
    """ROOMINFO, a `rooms` entry in the same shape: unasked when a room entered
    the user's list, changed, or was left for good; the answer to `topic`."""
    return _with_ref({"type": "room", "room": info}, ref)


def room_removed(room: str) -> dict:
    """Unasked: the user lost a private room (removed, or left it for good)."""
    return {"type": "room_removed", "room": room}


def invited(*, room: str, user: dict, ref: str | None = None) -> dict:
    return _with_ref({"type": "invited", "room": room, "user": user}, ref)


def removed(*, room: str, user: dict, ref: str | None = None) -> dict:
    return _with_ref({"type": "removed", "room": room, "user": user}, ref)


def sent(*, message: dict, ref: str | None = None) -> dict:
    return _with_ref({"type": "sent", "message": message}, ref)


def history(*, room: str, messages: list[dict], has_more: bool, ref: str | None = None) -> dict:
    return _with_ref({"type": "history", "room": room, "messages": messages, "has_more": has_more}, ref)


def changed(kind: str, *, message: dict, ref: str | None = None) -> dict:
    """The answer to `edit`, `delete`, `react`: `edited`, `deleted`, `reacted`."""
    return _with_ref({"type": kind, "message": message}, ref)


def changes(*, room: str, messages: list[dict], has_more: bool, rev: int, ref: str | None = None) -> dict:
    return _with_ref({"type": "changes", "room": room, "messages": messages, "has_more": has_more, "rev": rev}, ref)


def search(*, messages: list[dict], has_more: bool, ref: str | None = None) -> dict:
    return _with_ref({"type": "search", "messages": messages, "has_more": has_more}, ref)


def update(message_: dict) -> dict:
    """Unasked: a message of a joined room was edited, deleted or its reactions changed."""
    return {"type": "update", "room": message_["room"], "message": message_}


def message(message_: dict) -> dict:
    return {"type": "message", "room": message_["room"], "message": message_}


def typing(*, room: str, user: dict, active: bool) -> dict:
    return {"type": "typing", "room": room, "user": user, "active": active}


def presence(*, room: str, joins: list[dict], leaves: list[dict]) -> dict:
    return {"type": "presence", "room": room, "joins": joins, "leaves": leaves}


def push_subscribed(ref: str | None = None) -> dict:
    return _with_ref({"type": "push_subscribed"}, ref)


def push_unsubscribed(ref: str | None = None) -> dict:
    return _with_ref({"type": "push_unsubscribed"}, ref)


def notify(*, room: str, level: str, ref: str | None = None) -> dict:
    """The answer to `notify`, and, without ref, what the user's other sockets hear."""
    return _with_ref({"type": "notify", "room": room, "level": level}, ref)


def notify_settings(*, rooms: dict[str, str], ref: str | None = None) -> dict:
    return _with_ref({"type": "notify_settings", "rooms": rooms}, ref)


def error(*, code: str, detail: str, ref: str | None = None) -> dict:
    return _with_ref({"type": "error", "code": code, "detail": detail}, ref)
