"""The answer that carries an upload's bytes, once the view has decided the
user may have them. Three ways, by where the files are:

- S3 (CHAT_S3_BUCKET): a 302 to a presigned URL that lives
  CHAT_S3_URL_SECONDS, which makes S3 answer with our Content-Type and
  Content-Disposition; the bytes never pass through this server.
- The filesystem behind nginx (CHAT_X_ACCEL): an empty answer whose
  X-Accel-Redirect names the file under nginx's internal location; nginx
  sends it (the compose file's config adds nosniff and the policy there).
- The filesystem alone: streamed from a thread, a chunk at a time, so neither
  the event loop nor the memory holds the file.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from chat.uploads.names import file_headers
from chat.uploads.services import upload_storage

CHUNK = 256 * 1024


def file_response(*, storage_name: str, name: str, content_type: str, inline: bool, size: int | None,
                  head: bool = False) -> HttpResponse:
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
    if head:
        response = HttpResponse(headers=headers)
    else:
        response = StreamingHttpResponse(_chunks(storage, storage_name), headers=headers)
    response["Content-Length"] = str(size)
    return response


async def _chunks(storage, storage_name: str):
    # An async iterator: Django's ASGI handler would read a sync one into
    # memory whole before sending it.
    file = await asyncio.to_thread(storage.open, storage_name, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
