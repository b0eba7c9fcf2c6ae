"""Writes of notifications: levels and push subscriptions. Keyword-only, plain
data out, each one transaction (or one statement)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import NotifyLevel, PushSubscription, Room
from chat.selectors import room_access

# A user's subscriptions kept: one per browser profile they use. A user who
# subscribes more (a script, or many reinstalls) loses the oldest first.
MAX_SUBSCRIPTIONS_PER_USER = 20


def notify_level_set(*, user: Any, room: str, level: str) -> None:
    """The user's level in a room they may read (rooms_readable_by):
    RoomForbidden otherwise, and for a room that does not exist. A public
    room's level may be set before joining it; it is kept until the user leaves
    the room for good. Two sockets setting it at once: the last write wins."""
    from chat.services import RoomForbidden

    access = room_access(user=user, name=room)
    if access is None or not access[1]:
        raise RoomForbidden(room)
    room_id = Room.objects.filter(name=room).values_list("pk", flat=True).get()
    NotifyLevel.objects.bulk_create(
        [NotifyLevel(user_id=user.pk, room_id=room_id, level=level)],
        update_conflicts=True, unique_fields=["user", "room"], update_fields=["level"],
    )


def levels_forget(*, user_id: int, room: str) -> None:
    """The user lost the room (removed, or left it for good): their level goes with it."""
    NotifyLevel.objects.filter(user_id=user_id, room__name=room).delete()


def push_subscribe(*, user: Any, endpoint: str, p256dh: str, auth: str) -> None:
    """Keeps the subscription for the user, with its latest keys. An endpoint
    is one browser profile: subscribed by another user, it moves to them (the
    one who logged in there last). Past MAX_SUBSCRIPTIONS_PER_USER the user's
    oldest go."""
    with transaction.atomic():
        PushSubscription.objects.bulk_create(
            [PushSubscription(user_id=user.pk, endpoint=endpoint, p256dh=p256dh, auth=auth,
                              subscribed_at=timezone.now())],
            update_conflicts=True, unique_fields=["endpoint"], update_fields=["user", "p256dh", "auth", "subscribed_at"],
        )
        kept = (
            PushSubscription.objects.filter(user_id=user.pk)
            .order_by("-subscribed_at", "-pk").values_list("pk", flat=True)[:MAX_SUBSCRIPTIONS_PER_USER]
        )
        PushSubscription.objects.filter(user_id=user.pk).exclude(pk__in=list(kept)).delete()


def push_unsubscribe(*, user: Any, endpoint: str) -> None:
    """Forgets the user's subscription of that endpoint; nothing when they have none."""
    PushSubscription.objects.filter(user_id=user.pk, endpoint=endpoint).delete()


def subscription_forget(*, subscription_id: int, endpoint: str) -> None:
    """The push service answered 404 or 410: the subscription has expired or
    was withdrawn in the browser, and will never take a push again."""
    PushSubscription.objects.filter(pk=subscription_id, endpoint=endpoint).delete()
