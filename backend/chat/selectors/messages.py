"""Reads of stored messages, as wire MESSAGEs: by client_id, by seq, pages of a room, changes by rev."""

from datetime import datetime
from typing import Any

from chat.models import Room

from .access import rooms_readable_by
from .wire import MessageDict, _messages, _page, message_to_dict, messages_to_dicts


def message_by_client_id(*, user: Any, client_id: str) -> MessageDict | None:
    message = _messages().filter(author_id=user.pk, client_id=client_id).first()
    return None if message is None else message_to_dict(message)


# A join's page: the newest messages, or those after `since`.
LATEST_PAGE = 50
SINCE_PAGE = 500


def messages_latest(*, room: str, limit: int = LATEST_PAGE) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages, ascending; has_more when older ones exist."""
    rows = list(_messages().filter(room__name=room).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


def messages_since(*, room: str, since: int, limit: int = SINCE_PAGE) -> tuple[list[MessageDict], bool]:
    """The oldest `limit` messages with seq > since, ascending; has_more when the
    page was cut short, so the client asks again from its last seq."""
    rows = list(_messages().filter(room__name=room, seq__gt=since).order_by("seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=False)


def messages_stored_since(
    *, rooms: list[str], since: datetime, limit: int = LATEST_PAGE
) -> dict[str, list[MessageDict]]:
    """Per room that has any, its newest `limit` messages stored at or after
    `since`, ascending (chat/catchup.py: what live frames may have missed)."""
    found = {}
    for room in rooms:
        rows = list(_messages().filter(room__name=room, created_at__gte=since).order_by("-seq")[: max(limit, 0)])
        if rows:
            found[room] = messages_to_dicts(rows[::-1])
    return found


def messages_before(*, room: str, before: int, limit: int = 50, user: Any = None) -> tuple[list[MessageDict], bool]:
    """The newest `limit` messages with seq < before, ascending; has_more when
    older ones exist. Given a user, only if they may read the room (else none)."""
    messages = _messages() if user is None else _messages().filter(room__in=rooms_readable_by(user))
    rows = list(messages.filter(room__name=room, seq__lt=before).order_by("-seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=True)


def messages_after(*, room: str, after: int, limit: int = 50, user: Any = None) -> tuple[list[MessageDict], bool]:
    """The oldest `limit` messages with seq > after, ascending; has_more when
    newer ones exist. Given a user, only if they may read the room (else none)."""
    messages = _messages() if user is None else _messages().filter(room__in=rooms_readable_by(user))
    rows = list(messages.filter(room__name=room, seq__gt=after).order_by("seq")[: max(limit, 0) + 1])
    return _page(rows, limit, newest_first=False)


# At most this many messages per `changes` (and `join` with `since_rev`).
CHANGES_PAGE = 500


def message_changes(
    *, room: str, since_rev: int, limit: int = CHANGES_PAGE, user: Any = None
) -> tuple[list[MessageDict], bool, int]:
    """(messages whose rev > since_rev ascending by rev, the `limit` lowest;
    has_more; the room's rev). The rev is read first: a room's revs commit in
    order (the row lock), so every change up to it is in the page, or in a
    newer rev of the same message in the page. Never below the page's last rev.
    Given a user, only if they may read the room (else nothing, rev 0)."""
    rooms = Room.objects.all() if user is None else rooms_readable_by(user)
    rev = rooms.filter(name=room).values_list("last_rev", flat=True).first()
    if rev is None:
        return [], False, 0
    rows = list(_messages().filter(room__name=room, rev__gt=since_rev).order_by("rev")[: max(limit, 0) + 1])
    messages, has_more = _page(rows, limit, newest_first=False)
    return messages, has_more, max([rev, *(message["rev"] for message in messages)])


def room_rev(*, room: str) -> int:
    return Room.objects.filter(name=room).values_list("last_rev", flat=True).first() or 0


def message_by_id(message_id: int) -> MessageDict:
    return message_to_dict(_messages().get(pk=message_id))


def message_at(*, room: str, seq: int) -> MessageDict | None:
    message = _messages().filter(room__name=room, seq=seq).first()
    return None if message is None else message_to_dict(message)
