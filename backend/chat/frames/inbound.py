"""The client's frames: one frozen dataclass per `type`, which `parse` fills from checked fields."""

from __future__ import annotations

from dataclasses import dataclass

from chat.searchquery import SearchTerms

from .limits import DEFAULT_HISTORY_LIMIT, DEFAULT_SEARCH_LIMIT


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
