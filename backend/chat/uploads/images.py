"""What Pillow makes of an uploaded file: whether it is an image we show, its
size, the bytes to serve (re-encoded without EXIF) and a thumbnail.

Only the header is read before deciding: an image over
settings.CHAT_IMAGE_MAX_PIXELS, or one Pillow cannot read, is a plain file
and is never decoded. PNG, JPEG and WebP are re-encoded after applying their
EXIF orientation, which leaves their EXIF (GPS position, camera, time) and
text chunks behind; GIF has no EXIF and is served as uploaded, so animations
stay. Other formats Pillow knows (TIFF, BMP, ...) are plain files: the chat
shows the four a browser shows.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

THUMBNAIL_EDGE = 400
# Pillow's own guard against decompression bombs, at our limit: past it
# Image.open warns, past twice it refuses (our check comes first anyway).
Image.MAX_IMAGE_PIXELS = settings.CHAT_IMAGE_MAX_PIXELS

SHOWN_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# What a broken or hostile file may raise from Pillow's decoders.
UNREADABLE = (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError,
              EOFError, IndexError, TypeError, KeyError, MemoryError)


@dataclass(frozen=True)
class Picture:
    content_type: str
    width: int
    height: int
    # The bytes to store instead of the upload's, or None to keep those.
    reencoded: bytes | None
    thumbnail: bytes


def examine(path: str) -> Picture | None:
    """The image at path as it will be served, or None for a plain file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in SHOWN_FORMATS:
                    return None
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
                # Checked from the header, before anything is decoded.
                # An animated WebP is re-encoded frame by frame: all of them count.
                pixels = width * height * (frames if image.format == "WEBP" else 1)
                if width < 1 or height < 1 or pixels > settings.CHAT_IMAGE_MAX_PIXELS:
                    return None
                return _picture(image)
    except (*UNREADABLE, Image.DecompressionBombWarning) as error:
        log.info("an upload is a plain file: %s", type(error).__name__)
        return None


def _picture(image: Image.Image) -> Picture:
    content_type = SHOWN_FORMATS[image.format]
    if image.format == "GIF":
        image.seek(0)
        upright, reencoded = image, None
    else:
        upright = ImageOps.exif_transpose(image)
        reencoded = _reencode(upright, image.format, animated=getattr(image, "n_frames", 1) > 1)
    width, height = upright.size
    return Picture(content_type=content_type, width=width, height=height, reencoded=reencoded,
                   thumbnail=thumbnail(upright))


def _reencode(image: Image.Image, format: str, *, animated: bool) -> bytes:
    # No exif= and no pnginfo=: Pillow writes neither unless asked.
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    if format == "JPEG":
        image.save(out, "JPEG", quality=92, icc_profile=icc)
    elif format == "PNG":
        image.save(out, "PNG", icc_profile=icc, optimize=False)
    else:  # WEBP, animated or not
        image.save(out, "WEBP", quality=90, icc_profile=icc, save_all=animated)
    return out.getvalue()


def has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (image.mode == "P" and "transparency" in image.info)


def thumbnail(image: Image.Image) -> bytes:
    """At most THUMBNAIL_EDGE px on the longer side: PNG when the image has
    transparency, JPEG otherwise."""
    alpha = has_alpha(image)
    small = image.convert("RGBA" if alpha else "RGB")
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha:
        small.save(out, "PNG", optimize=True)
    else:
        small.save(out, "JPEG", quality=85)
    return out.getvalue()


def thumbnail_type(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
