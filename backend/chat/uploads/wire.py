"""ATTACHMENT, the wire shape of an upload (docs/protocol.md): one place shapes it."""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

# The upload views' paths (urls.py).
URL_PREFIX = "/api/uploads/"
THUMBNAIL = "thumbnail"


class ImageDict(TypedDict):
    width: int
    height: int
    thumbnail_url: str


class AttachmentDict(TypedDict):
    id: str
    name: str
    size: int
    content_type: str
    url: str
    image: ImageDict | None


def file_url(upload_id: str, name: str) -> str:
    # The name is one path segment: every reserved character escaped, unicode as UTF-8.
    return f"{URL_PREFIX}{upload_id}/{quote(name, safe='')}"


def attachment_wire(
    *, id: str, name: str, size: int, content_type: str, width: int | None, height: int | None
) -> AttachmentDict:
    image: ImageDict | None = None
    if width is not None and height is not None:
        image = {"width": width, "height": height, "thumbnail_url": f"{URL_PREFIX}{id}/{THUMBNAIL}"}
    return {
        "id": id, "name": name, "size": size, "content_type": content_type, "url": file_url(id, name),
        "image": image,
    }


def attachments_wire(rows) -> list[AttachmentDict]:
    """Rows of (id, name, size, content_type, width, height), in the message's order."""
    return [
        attachment_wire(id=id, name=name, size=size, content_type=content_type, width=width, height=height)
        for id, name, size, content_type, width, height in rows
    ]
