"""Read markers: how far a member has read a room."""

from typing import Any

from chat.models import Membership, Room
from chat.selectors import rooms_readable_by


def read_marker_move(*, user: Any, room: str, seq: int) -> None:
    """Moves the marker forward to min(seq, room.last_seq); never back.

    A no-op for unknown rooms and non-members. last_seq only grows, so clamping
    to a value read a moment ago is still correct.
    """
    last_seq = Room.objects.filter(name=room).values_list("last_seq", flat=True).first()
    if last_seq is None:
        return
    target = min(seq, last_seq)
    Membership.objects.filter(
        user_id=user.pk, room__in=rooms_readable_by(user).filter(name=room), last_read_seq__lt=target
    ).update(last_read_seq=target)
