"""Reads of notifications: a user's levels, and whom a new message is pushed to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from chat.models import Membership, NotifyLevel, PushSubscription, Room
from chat.selectors import rooms_readable_by


def default_level(kind: str) -> str:
    """A room's level when the user set none: every message of a dm, mentions elsewhere."""
    return NotifyLevel.Level.ALL if kind == Room.Kind.DM else NotifyLevel.Level.MENTIONS


def notify_settings(*, user: Any) -> dict[str, str]:
    """{room: level} for every room in the user's `rooms` list that they are a
    member of (rooms_readable_by), defaults included. One query."""
    level = NotifyLevel.objects.filter(user_id=user.pk, room_id=OuterRef("pk")).values("level")[:1]
    rows = (
        rooms_readable_by(user).filter(memberships__user_id=user.pk)
        .annotate(level=Subquery(level)).values_list("name", "kind", "level")
    )
    return {name: level or default_level(kind) for name, kind, level in rows}


@dataclass(frozen=True)
class PushTarget:
    """One subscription a message is to be pushed to."""

    subscription_id: int
    user_id: int
    endpoint: str
    p256dh: str
    auth: str
    mentioned: bool


def push_targets(*, room: str, author_id: int, mentions: list[int]) -> tuple[str, list[PushTarget]]:
    """(the room's kind, the subscriptions of the users other than the author
    whose level wants this message): "all" for every message, "mentions" for
    one that mentions them, "nothing" never; no level is default_level(kind).

    Only users who may read the room (rooms_readable_by) are found: members
    (which a private or dm room's readers are) and the users the message
    mentions (mentioned only when they may read it, services.SendStatement).
    A public room's "all" counts once the user joined it. Presence is the
    caller's to judge. Active users only. One query besides the room's row."""
    row = Room.objects.filter(name=room).values_list("pk", "kind").first()
    if row is None:
        return "", []
    room_id, kind = row
    mentioned = {user_id for user_id in mentions if user_id != author_id}
    members = Membership.objects.filter(room_id=room_id).values("user_id")
    if kind == Room.Kind.DM:
        candidates = Q(user_id__in=members)
    else:
        wants_all = NotifyLevel.objects.filter(room_id=room_id, level=NotifyLevel.Level.ALL, user_id__in=members)
        candidates = Q(user_id__in=mentioned) | Q(user_id__in=wants_all.values("user_id"))
    level = Coalesce(
        Subquery(NotifyLevel.objects.filter(room_id=room_id, user_id=OuterRef("user_id")).values("level")[:1]),
        Value(default_level(kind)),
    )
    rows = (
        PushSubscription.objects.filter(candidates, user__is_active=True).exclude(user_id=author_id)
        .annotate(level=level).values_list("pk", "user_id", "endpoint", "p256dh", "auth", "level")
    )
    return kind, [
        PushTarget(subscription_id=pk, user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth,
                   mentioned=user_id in mentioned)
        for pk, user_id, endpoint, p256dh, auth, level in rows
        if level == NotifyLevel.Level.ALL or (level == NotifyLevel.Level.MENTIONS and user_id in mentioned)
    ]
