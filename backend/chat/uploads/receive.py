"""Receiving POST /api/uploads: the one `file` field goes to a temporary file
on disk chunk by chunk, counted as it comes; past settings.CHAT_UPLOAD_MAX_BYTES
the parse stops with TooLarge.

Where a body is cut off (README, "Attachments"): our server (chat/httpbody.py)
refuses a body whose Content-Length is over the limit before reading any of it,
and stops reading one that grows past it; only then does Django see the request.
Django's ASGI handler spools the body it is given to a SpooledTemporaryFile
(in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE) before the view runs, so by the
view the body is at most the limit and on disk. The view checks Content-Length
again (a plain `daphne` has no httpbody), and this handler counts the file's
own bytes, since a multipart body is a little larger than its file.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

FIELD = "file"
# A multipart body's envelope around its file: boundaries, part headers, and a
# long file name in them.
ENVELOPE_BYTES = 64 * 1024


class TooLarge(Exception):
    """The file is over settings.CHAT_UPLOAD_MAX_BYTES."""


def body_limit() -> int:
    """The most bytes a request body may have (httpbody.py and the view's check)."""
    return settings.CHAT_UPLOAD_MAX_BYTES + ENVELOPE_BYTES


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """The first `file` field to disk, at most CHAT_UPLOAD_MAX_BYTES of it;
    every other file field is skipped."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.CHAT_UPLOAD_MAX_BYTES
        self.received = 0
        self.taken = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > body_limit():
            raise TooLarge()
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def new_file(self, field_name, *args, **kwargs):
        if field_name != FIELD or self.taken:
            raise SkipFile()
        self.taken = True
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # a temporary file: closing deletes it
            raise TooLarge()
        return super().receive_data_chunk(raw_data, start)
