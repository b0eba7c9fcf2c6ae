"""The answer that carries an upload's bytes, once the view has decided the
user may have them. Three ways, by where the files are:

- S3 (CHAT_S3_BUCKET): a 302 to a presigned URL that lives
  CHAT_S3_URL_SECONDS, which makes S3 answer with our Content-Type and
  Content-Disposition; the bytes never pass through this server.
- The filesystem behind nginx (CHAT_X_ACCEL): an empty answer whose
  X-Accel-Redirect names the file under nginx's internal location; nginx
  sends it (the compose file's config adds nosniff and the policy there).
- The filesystem alone: streamed from a thread, a chunk at a time, so neither
  the event loop nor the memory holds the file. One byte range (`Range:
  bytes=…`) is answered 206 with that slice, so a video or audio file can be
  sought and a broken download resumed, as nginx and S3 do; several ranges
  in one request get the whole file (200), and a range past the end 416.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from chat.uploads.names import file_headers
from chat.uploads.services import upload_storage

CHUNK = 256 * 1024


def file_response(*, storage_name: str, name: str, content_type: str, inline: bool, size: int | None,
                  head: bool = False, range_header: str | None = None) -> HttpResponse:
    headers = file_headers(name=name, content_type=content_type, inline=inline)
    storage = upload_storage()
    if settings.CHAT_S3_BUCKET:
        url = storage.url(storage_name, parameters={
            "ResponseContentType": headers["Content-Type"],
            "ResponseContentDisposition": headers["Content-Disposition"],
            "ResponseCacheControl": headers["Cache-Control"],
        }, expire=settings.CHAT_S3_URL_SECONDS)
        response = HttpResponseRedirect(url)
        # The redirect itself is this user's alone, and only for as long as the URL lives.
        response["Cache-Control"] = "private, no-store"
        return response
    if settings.CHAT_X_ACCEL:
        response = HttpResponse(headers=headers)
        response["X-Accel-Redirect"] = settings.CHAT_X_ACCEL_LOCATION + quote(storage_name)
        return response
    if size is None:
        size = storage.size(storage_name)
    headers["Accept-Ranges"] = "bytes"
    wanted = byte_range(range_header, size)
    if wanted is UNSATISFIABLE:
        response = HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
        response["Cache-Control"] = headers["Cache-Control"]
        return response
    start, end = wanted if wanted is not None else (0, size - 1)
    if head:
        response = HttpResponse(headers=headers)
    else:
        response = StreamingHttpResponse(_chunks(storage, storage_name, start, end - start + 1), headers=headers)
    if wanted is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(max(0, end - start + 1))
    return response


UNSATISFIABLE = (-1, -1)


# One range of bytes; ASCII digits only (str.isdigit() also takes "²", which int() refuses).
_ONE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range (first, last byte, inclusive) a `Range` header asks of a
    file of `size` bytes; None for the whole file (no header, one we do not
    serve by parts: several ranges or another unit, or one that is malformed,
    which RFC 9110 says to ignore); UNSATISFIABLE when it starts past the end."""
    match = _ONE_RANGE.fullmatch(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        return UNSATISFIABLE
    return start, min(int(last), size - 1) if last else size - 1


async def _chunks(storage, storage_name: str, start: int, length: int):
    # An async iterator: Django's ASGI handler would read a sync one into
    # memory whole before sending it.
    file = await asyncio.to_thread(storage.open, storage_name, "rb")
    try:
        if start:
            await asyncio.to_thread(file.seek, start)
        while length > 0 and (chunk := await asyncio.to_thread(file.read, min(CHUNK, length))):
            length -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
