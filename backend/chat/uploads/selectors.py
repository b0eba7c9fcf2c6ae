"""Reads of attachments: who may fetch an upload's file.

The uploader, until a message that holds it is deleted, and anyone who may
read the room of a (not deleted) message that holds it: rooms_readable_by,
the one access rule. Everyone else learns nothing, not even that the id exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, Sum

from chat.models import Upload
from chat.selectors import rooms_readable_by


@dataclass(frozen=True)
class StoredUpload:
    id: str
    name: str
    content_type: str
    size: int
    file: str
    thumbnail: str
    is_image: bool


def upload_readable(*, user: Any, upload_id: str) -> StoredUpload | None:
    """The upload if this user may fetch it, else None (also for an unknown id)."""
    held_live = Q(message__isnull=True) | Q(message__deleted=False)
    mine = Q(uploader_id=user.pk) & held_live
    in_readable_room = Q(message__deleted=False, message__room__in=rooms_readable_by(user))
    row = (
        Upload.objects.filter(pk=upload_id).filter(mine | in_readable_room)
        .values_list("id", "name", "content_type", "size", "file", "thumbnail", "width")
        .first()
    )
    if row is None:
        return None
    id, name, content_type, size, file, thumbnail, width = row
    return StoredUpload(id=id, name=name, content_type=content_type, size=size, file=file, thumbnail=thumbnail,
                        is_image=width is not None)


def pending_bytes(*, user: Any) -> int:
    """The size of this user's uploads that no message holds (yet)."""
    total = Upload.objects.filter(uploader_id=user.pk, message__isnull=True).aggregate(total=Sum("size"))["total"]
    return total or 0
