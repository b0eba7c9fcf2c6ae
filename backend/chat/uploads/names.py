"""A file's name as stored and shown, its content type, and how it is served.

The name is the uploader's, cleaned: no folders, no control characters, at
most Upload.MAX_NAME_LENGTH characters with its extension kept; any other
unicode stays. The content type of an image is Pillow's (from the bytes,
images.py); of anything else the name's (mimetypes). Only PNG, JPEG, GIF and
WebP images that Pillow read are shown inline; everything else, SVG and HTML
included, is an attachment, and every file answer forbids sniffing and runs
under a policy that lets nothing load or run.
"""

from __future__ import annotations

import mimetypes
import unicodedata

from urllib.parse import quote

from chat.models import Upload
from chat.uploads.wire import THUMBNAIL

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Even opened on its own, a file answer can load, run and frame nothing.
FILE_POLICY = "default-src 'none'; sandbox"
FALLBACK_NAME = "file"
MAX_EXTENSION = 16


def clean_name(raw: str | None) -> str:
    """The name a file is stored and listed under."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    # Control and format characters (including bidi overrides that make
    # "exe.txt" read as "txt.exe"), lone surrogates and U+0000 go.
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn"})
    name = name.strip().strip(".").strip()
    if not name:
        name = FALLBACK_NAME
    if len(name) > Upload.MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION:
            name = stem[: Upload.MAX_NAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[: Upload.MAX_NAME_LENGTH].rstrip()
    if name.lower() == THUMBNAIL:
        # /api/uploads/<id>/thumbnail is the thumbnail's path, not this file's.
        name += "_"
    return name


def type_from_name(name: str) -> str:
    """The content type of a file Pillow could not read as an image."""
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    if guessed in INLINE_TYPES:
        # Named like an image that Pillow would have read: it is not one.
        return "application/octet-stream"
    return guessed


def is_inline(content_type: str) -> bool:
    return content_type in INLINE_TYPES


def disposition(*, name: str, inline: bool) -> str:
    """Content-Disposition with RFC 5987's filename* (the real name, UTF-8) and
    an ASCII filename for clients that do not read it (RFC 6266)."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in fallback).strip()
    if not fallback or fallback.startswith("."):  # nothing of the name was ASCII but its extension
        fallback = FALLBACK_NAME + fallback
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_headers(*, name: str, content_type: str, inline: bool) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Disposition": disposition(name=name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_POLICY,
        # Only this user's browser may keep it, and briefly: access can end.
        "Cache-Control": "private, max-age=300",
    }
