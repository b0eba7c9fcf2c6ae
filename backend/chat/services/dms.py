"""Direct messages: one `dm-` room per set of users, made by `dm` alone."""

from typing import Any

from django.db import IntegrityError, transaction

from chat.models import DM_PREFIX, Membership, Room

from .members import users_by_username

# A dm room holds the sender and 1 to 7 others (the contract's 2 to 8 users).
DM_MAX_OTHERS = 7
# A room name's limit (frames.ROOM_NAME's pattern, Room.name).
DM_NAME_MAX = 64


def dm_name(user_ids: list[int]) -> str:
    """dm-3-17: the members' ids ascending, so one set of users has one name."""
    return DM_PREFIX + "-".join(str(user_id) for user_id in sorted(set(user_ids)))


def dm_members(*, user: Any, usernames: list[str]) -> tuple[str, list[int], bool]:
    """(room name, member ids ascending, whether the room exists) of the dm room
    of the user and those others; the user's own name among them is ignored.
    UserNotFound for an unknown username; ValueError for none or more than 7 others."""
    others = {other.pk for other in users_by_username(usernames)} - {user.pk}
    if not 1 <= len(others) <= DM_MAX_OTHERS:
        raise ValueError(f"a dm has 1 to {DM_MAX_OTHERS} other users")
    member_ids = sorted(others | {user.pk})
    name = dm_name(member_ids)
    if len(name) > DM_NAME_MAX:
        # The contract's room names stop at 64 characters: eight members with
        # seven-digit ids would not fit, and such a room could not be joined.
        raise ValueError(f"these people's dm name would be over {DM_NAME_MAX} characters; start it with fewer of them")
    return name, member_ids, Room.objects.filter(name=name).exists()


def dm_create(*, name: str, member_ids: list[int]) -> bool:
    """Makes the dm room and its memberships unless it exists; True when this
    call made it. Two processes making it at once: the room's unique name lets
    one insert win; the other waits for its commit, fails, and finds it."""
    try:
        with transaction.atomic():
            room = Room.objects.create(name=name, kind=Room.Kind.DM)
            Membership.objects.bulk_create([Membership(user_id=user_id, room_id=room.pk) for user_id in member_ids])
    except IntegrityError:
        if not Room.objects.filter(name=name, kind=Room.Kind.DM).exists():
            raise
        return False
    return True
