"""Who is in a private room: invitations and removals; the users a request names."""

from typing import Any

from django.db import transaction

from accounts.services import user_wire
from chat.models import Membership, Room
from chat.notifications.services import levels_forget

from .errors import RoomForbidden, UserNotFound
from .rooms import readable_access


def users_by_username(usernames: list[str]) -> list[Any]:
    """The active users of those names (whatever their case), in the order
    given; UserNotFound names the first that is unknown."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    found = []
    for username in usernames:
        match = user_model.objects.filter(**{f"{field}__iexact": username, "is_active": True}).only("id", field).first()
        if match is None:
            raise UserNotFound(username)
        found.append(match)
    return found


def member_invite(*, user: Any, room: str, username: str) -> tuple[dict, bool]:
    """Any member of a private room (or staff) adds another user: (USER, whether
    they are new to the room). RoomForbidden in public and dm rooms and for a
    room the user may not read; UserNotFound for an unknown username."""
    kind, _ = readable_access(user=user, name=room)
    if kind != Room.Kind.PRIVATE:
        raise RoomForbidden(room, "only private rooms take invitations")
    [invitee] = users_by_username([username])
    room_id = Room.objects.filter(name=room).values_list("pk", flat=True).get()
    _, added = Membership.objects.get_or_create(user_id=invitee.pk, room_id=room_id)
    return user_wire(invitee), added


def member_remove(*, user: Any, room: str, username: str) -> tuple[dict, bool]:
    """The owner of a private room (or staff) takes a member out: (USER, whether
    they were a member). RoomForbidden for anyone else, in public and dm rooms,
    and for the owner themselves (who leaves instead); UserNotFound for an
    unknown username. Their notification level there goes with them."""
    kind, owns = readable_access(user=user, name=room)
    if kind != Room.Kind.PRIVATE or not owns:
        raise RoomForbidden(room, "only the owner of a private room removes members")
    [member] = users_by_username([username])
    if Room.objects.filter(name=room, owner_id=member.pk).exists():
        raise RoomForbidden(room, "the owner cannot be removed")
    with transaction.atomic():
        removed, _ = Membership.objects.filter(user_id=member.pk, room__name=room).delete()
        levels_forget(user_id=member.pk, room=room)
    return user_wire(member), removed > 0
