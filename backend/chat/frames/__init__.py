"""The socket's wire frames, declared once (docs/protocol.md).

Inbound: `parse(text)` turns one text frame into a typed, validated frame or
raises `FrameError`; nothing unvalidated reaches a handler. Outbound: one small
builder per server frame, and `dumps` to serialize a frame exactly once.

Unknown extra fields in a client frame are ignored, so a newer client can talk
to an older server.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from chat.searchquery import EmptyQuery, SearchTerms, parse_query

MAX_FRAME_BYTES = 64 * 1024
MAX_REF_LENGTH = 64
MAX_BODY_LENGTH = 4000
MAX_CLIENT_ID_LENGTH = 64
MAX_HISTORY_LIMIT = 100
DEFAULT_HISTORY_LIMIT = 50
# seq columns are 64-bit; a larger number could only fail in the database.
MAX_SEQ = 2**63 - 1
MAX_TOPIC_LENGTH = 250  # models.Room.MAX_TOPIC_LENGTH
MAX_USERNAME_LENGTH = 150  # Django's username field
# A dm names the sender's 1 to 7 others (services.DM_MAX_OTHERS).
MAX_DM_USERS = 7
MAX_EMOJI_LENGTH = 32
# A send names at most this many uploads (models.Upload.MAX_PER_MESSAGE); an
# upload id is models.new_upload_id's.
MAX_ATTACHMENTS = 10
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")
MAX_QUERY_LENGTH = 500
MAX_SEARCH_LIMIT = 50
DEFAULT_SEARCH_LIMIT = 20
ROOM_KINDS_CREATED = ("public", "private")
NOTIFY_LEVELS = ("all", "mentions", "nothing")
MAX_ENDPOINT_LENGTH = 2048  # models.PushSubscription.MAX_ENDPOINT_LENGTH
# A push subscription's keys, decoded: an uncompressed P-256 point and the auth secret.
P256DH_BYTES = 65
AUTH_BYTES = 16
BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")

ROOM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

# What trimming a body removes at both ends: every character Python calls white
# space (Unicode's spaces and line breaks), what JavaScript's trim() adds to
# those (U+FEFF), and the zero-width spaces a reader cannot see either
# (U+200B, U+2060, and U+180E, a space before Unicode 6.3).
BODY_TRIMMED = "".join(c for c in map(chr, range(0x10000)) if c.isspace()) + "\ufeff\u200b\u2060\u180e"


class FrameError(Exception):
    """A request the server refuses; becomes an `error` frame, the socket stays open."""

    def __init__(self, code: str, detail: str, ref: str | None = None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.ref = ref


# ---- inbound frames ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ping:
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Rooms:
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Join:
    room: str
    since: int | None = None
    ref: str | None = None
    # v2: what `changes` would answer instead of a page by seq; `since` is then ignored.
    since_rev: int | None = None


@dataclass(frozen=True, slots=True)
class Leave:
    room: str
    ref: str | None = None
    # v2: leave for good, not only this socket: the membership goes too.
    forget: bool = False


@dataclass(frozen=True, slots=True)
class Send:
    room: str
    body: str
    client_id: str
    ref: str | None = None
    reply_to: int | None = None  # v2: the seq replied to
    attachments: tuple[str, ...] = ()  # upload ids, in the order the message shows them


@dataclass(frozen=True, slots=True)
class History:
    room: str
    before: int | None  # one of before and (v2) after
    limit: int = DEFAULT_HISTORY_LIMIT
    ref: str | None = None
    after: int | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    room: str
    seq: int
    body: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    room: str
    seq: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class React:
    room: str
    seq: int
    emoji: str
    active: bool
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    room: str
    since_rev: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Search:
    terms: SearchTerms  # the query, parsed
    room: str | None = None
    before: int | None = None
    limit: int = DEFAULT_SEARCH_LIMIT
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Typing:
    room: str
    active: bool
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Read:
    room: str
    seq: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Create:
    room: str
    kind: str
    topic: str = ""
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Dm:
    users: tuple[str, ...]
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Invite:
    room: str
    user: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Remove:
    room: str
    user: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    room: str
    topic: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class PushSubscribe:
    endpoint: str
    p256dh: str  # base64url without padding
    auth: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class PushUnsubscribe:
    endpoint: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Notify:
    room: str
    level: str  # one of NOTIFY_LEVELS
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class NotifySettings:
    ref: str | None = None


Frame = (
    Ping | Rooms | Join | Leave | Send | History | Typing | Read | Create | Dm | Invite | Remove | Topic
    | Edit | Delete | React | Changes | Search | PushSubscribe | PushUnsubscribe | Notify | NotifySettings
)


# ---- inbound validation ----------------------------------------------------------


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")


def _parse_int(digits: str) -> int | float:
    # Python refuses to convert more than 4300 digits (a ValueError, which would
    # read as bad_json). No field takes a number that long: a float fails every
    # integer check, so the frame is answered as out of range instead.
    if len(digits) > 40:
        return float(digits)
    return int(digits)


def _decode(text: str | bytes) -> dict:
    if not isinstance(text, str):
        raise FrameError("bad_json", "frames must be JSON text, not binary")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(value, dict):
        raise FrameError("bad_json", "a frame must be a JSON object")
    return value


def _is_text(value: str) -> bool:
    # JSON may spell lone UTF-16 surrogates ("\ud800"); they are not text and
    # could not be stored or sent back as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_storable(value: str) -> bool:
    # PostgreSQL's text columns cannot hold U+0000, so neither can a stored field.
    return _is_text(value) and "\x00" not in value


class _Fields:
    """Reads typed fields off one decoded frame; errors carry the frame's ref."""

    def __init__(self, data: dict, ref: str | None):
        self.data = data
        self.ref = ref

    def fail(self, detail: str, code: str = "bad_frame") -> FrameError:
        return FrameError(code, detail, self.ref)

    def string(self, name: str, max_length: int, *, min_length: int = 1) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or not _is_storable(value):
            raise self.fail(f"'{name}' must be a string")
        if not min_length <= len(value) <= max_length:
            raise self.fail(f"'{name}' must be {min_length} to {max_length} characters")
        return value

    def integer(self, name: str, minimum: int, maximum: int = MAX_SEQ, *, default: int | None = None) -> int | None:
        if name not in self.data and default is not None:
            return default
        value = self.data.get(name)
        # bool is a subclass of int in Python: true must not pass as 1.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"'{name}' must be an integer")
        if not minimum <= value <= maximum:
            raise self.fail(f"'{name}' must be between {minimum} and {maximum}")
        return value

    def optional_integer(self, name: str, minimum: int) -> int | None:
        if self.data.get(name) is None:
            return None
        return self.integer(name, minimum)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise self.fail(f"'{name}' must be true or false")
        return value

    def emoji(self) -> str:
        value = self.data.get("emoji")
        if not isinstance(value, str):
            raise self.fail("'emoji' must be a string")
        if (
            not 1 <= len(value) <= MAX_EMOJI_LENGTH or not _is_storable(value)
            or any(c in BODY_TRIMMED or unicodedata.category(c) == "Cc" for c in value)
        ):
            raise self.fail(
                f"an emoji is 1 to {MAX_EMOJI_LENGTH} characters without white space", code="invalid_emoji"
            )
        return value

    def room(self) -> str:
        value = self.data.get("room")
        if not isinstance(value, str):
            raise self.fail("'room' must be a string")
        if not ROOM_NAME.fullmatch(value):
            raise self.fail("room names match ^[a-z0-9][a-z0-9_-]{0,63}$", code="invalid_room")
        return value

    def body(self, *, may_be_empty: bool = False) -> str:
        value = self.data.get("body")
        if value is None and may_be_empty:
            return ""
        if not isinstance(value, str) or not _is_storable(value):
            raise self.fail("'body' must be a string")
        body = value.strip(BODY_TRIMMED)
        if not (0 if may_be_empty else 1) <= len(body) <= MAX_BODY_LENGTH:
            raise self.fail(f"a body is 1 to {MAX_BODY_LENGTH} characters after trimming", code="invalid_body")
        return body

    def attachments(self) -> tuple[str, ...]:
        """Upload ids, each once, in their order; whether they are the sender's
        own and free is the send's statement's to say."""
        value = self.data.get("attachments")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail("'attachments' must be a list of upload ids")
        ids = tuple(dict.fromkeys(value))
        if len(ids) > MAX_ATTACHMENTS:
            raise self.fail(f"a message holds at most {MAX_ATTACHMENTS} attachments", code="invalid_attachment")
        if not all(UPLOAD_ID.fullmatch(item) for item in ids):
            raise self.fail("an attachment id is not one of your uploads", code="invalid_attachment")
        return ids


    def push_key(self, name: str, size: int) -> str:
        """A key of `keys`: base64url (padding optional) of exactly `size` bytes,
        returned without padding."""
        keys = self.data.get("keys")
        value = keys.get(name) if isinstance(keys, dict) else None
        if not isinstance(value, str) or not BASE64URL.fullmatch(value):
            raise self.fail(f"'keys.{name}' must be base64url")
        unpadded = value.rstrip("=")
        try:
            decoded = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
        except (binascii.Error, ValueError):
            raise self.fail(f"'keys.{name}' must be base64url") from None
        if len(decoded) != size:
            raise self.fail(f"'keys.{name}' must decode to {size} bytes")
        return unpadded

    def endpoint(self) -> str:
        """A push service's URL: https, or http to a loopback host where allowed
        (DEBUG, CHAT_PUSH_ALLOW_HTTP: a push service of one's own on this machine)."""
        value = self.string("endpoint", MAX_ENDPOINT_LENGTH)
        try:
            url = urlsplit(value)
            host = url.hostname
            url.port  # noqa: B018 (raises ValueError for a port that is not one)
        except ValueError:
            raise self.fail("'endpoint' must be an https URL") from None
        plain = "".join(value.split()) == value and value.isprintable()
        if not plain or not host or url.username is not None or url.password is not None:
            raise self.fail("'endpoint' must be an https URL")
        if url.scheme == "https" or (url.scheme == "http" and plain_http_allowed() and _is_loopback(host)):
            return value
        raise self.fail("'endpoint' must be an https URL")


def plain_http_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "CHAT_PUSH_ALLOW_HTTP", False))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ref(data: dict) -> str | None:
    if "ref" not in data or data["ref"] is None:
        return None
    ref = data["ref"]
    if not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH or not _is_text(ref):
        # An unusable ref is not echoed: the error goes out without one.
        raise FrameError("bad_frame", f"'ref' must be a string of at most {MAX_REF_LENGTH} characters")
    return ref


def _parse_ping(f: _Fields) -> Frame:
    return Ping(ref=f.ref)


def _parse_rooms(f: _Fields) -> Frame:
    return Rooms(ref=f.ref)


def _parse_join(f: _Fields) -> Frame:
    room = f.room()
    return Join(room=room, since=f.optional_integer("since", 0), since_rev=f.optional_integer("since_rev", 0), ref=f.ref)


def _parse_leave(f: _Fields) -> Frame:
    forget = f.data.get("forget") is not None and f.boolean("forget")
    return Leave(room=f.room(), ref=f.ref, forget=forget)


def _parse_send(f: _Fields) -> Frame:
    room = f.room()
    client_id = f.string("client_id", MAX_CLIENT_ID_LENGTH)
    attachments = f.attachments()
    # With attachments the body may be empty; never both.
    body = f.body(may_be_empty=bool(attachments))
    return Send(room=room, body=body, client_id=client_id, reply_to=f.optional_integer("reply_to", 1), ref=f.ref,
                attachments=attachments)


def _parse_history(f: _Fields) -> Frame:
    room = f.room()
    if (f.data.get("before") is None) == (f.data.get("after") is None):
        raise f.fail("'history' takes one of 'before' and 'after'")
    before, after = f.optional_integer("before", 1), f.optional_integer("after", 0)
    limit = f.integer("limit", 1, MAX_HISTORY_LIMIT, default=DEFAULT_HISTORY_LIMIT)
    return History(room=room, before=before, after=after, limit=limit, ref=f.ref)


def _parse_edit(f: _Fields) -> Frame:
    room, seq = f.room(), f.integer("seq", 1)
    return Edit(room=room, seq=seq, body=f.body(), ref=f.ref)


def _parse_delete(f: _Fields) -> Frame:
    return Delete(room=f.room(), seq=f.integer("seq", 1), ref=f.ref)


def _parse_react(f: _Fields) -> Frame:
    room, seq, active = f.room(), f.integer("seq", 1), f.boolean("active")
    return React(room=room, seq=seq, emoji=f.emoji(), active=active, ref=f.ref)


def _parse_changes(f: _Fields) -> Frame:
    return Changes(room=f.room(), since_rev=f.integer("since_rev", 0), ref=f.ref)


def _parse_search(f: _Fields) -> Frame:
    try:
        terms = parse_query(f.string("query", MAX_QUERY_LENGTH, min_length=0))
    except EmptyQuery:
        raise f.fail("a search needs a word, a \"phrase\", from: or in:", code="invalid_query") from None
    room = f.room() if f.data.get("room") is not None else None
    before = f.optional_integer("before", 1)
    limit = f.integer("limit", 1, MAX_SEARCH_LIMIT, default=DEFAULT_SEARCH_LIMIT)
    return Search(terms=terms, room=room, before=before, limit=limit, ref=f.ref)


def _parse_typing(f: _Fields) -> Frame:
    return Typing(room=f.room(), active=f.boolean("active"), ref=f.ref)


def _parse_read(f: _Fields) -> Frame:
    return Read(room=f.room(), seq=f.integer("seq", 0), ref=f.ref)


def _parse_create(f: _Fields) -> Frame:
    room = f.room()
    kind = f.data.get("kind")
    if kind not in ROOM_KINDS_CREATED:
        raise f.fail("'kind' must be \"public\" or \"private\"")
    topic = f.string("topic", MAX_TOPIC_LENGTH, min_length=0) if f.data.get("topic") is not None else ""
    return Create(room=room, kind=kind, topic=topic, ref=f.ref)


def _parse_dm(f: _Fields) -> Frame:
    users = f.data.get("users")
    if not isinstance(users, list) or not 1 <= len(users) <= MAX_DM_USERS:
        raise f.fail(f"'users' must be a list of 1 to {MAX_DM_USERS} usernames")
    for username in users:
        if not isinstance(username, str) or not _is_storable(username) or not 1 <= len(username) <= MAX_USERNAME_LENGTH:
            raise f.fail(f"each of 'users' must be a username of 1 to {MAX_USERNAME_LENGTH} characters")
    return Dm(users=tuple(users), ref=f.ref)


def _parse_invite(f: _Fields) -> Frame:
    return Invite(room=f.room(), user=f.string("user", MAX_USERNAME_LENGTH), ref=f.ref)


def _parse_remove(f: _Fields) -> Frame:
    return Remove(room=f.room(), user=f.string("user", MAX_USERNAME_LENGTH), ref=f.ref)


def _parse_topic(f: _Fields) -> Frame:
    return Topic(room=f.room(), topic=f.string("topic", MAX_TOPIC_LENGTH, min_length=0), ref=f.ref)


def _parse_push_subscribe(f: _Fields) -> Frame:
    endpoint = f.endpoint()
    return PushSubscribe(
        endpoint=endpoint, p256dh=f.push_key("p256dh", P256DH_BYTES), auth=f.push_key("auth", AUTH_BYTES), ref=f.ref
    )


def _parse_push_unsubscribe(f: _Fields) -> Frame:
    return PushUnsubscribe(endpoint=f.string("endpoint", MAX_ENDPOINT_LENGTH), ref=f.ref)


def _parse_notify(f: _Fields) -> Frame:
    room = f.room()
    level = f.data.get("level")
    if level not in NOTIFY_LEVELS:
        raise f.fail("'level' must be \"all\", \"mentions\" or \"nothing\"")
    return Notify(room=room, level=level, ref=f.ref)


def _parse_notify_settings(f: _Fields) -> Frame:
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
    data = _decode(text)
    ref = _ref(data)
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise FrameError("bad_frame", "unknown or missing 'type'", ref)
    return parser(_Fields(data, ref))


# ---- outbound frames -------------------------------------------------------------


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
