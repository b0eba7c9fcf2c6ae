"""Reading a client frame: the JSON text decoded, its `ref`, and its fields read
typed and checked; what is refused is a FrameError."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from .limits import (
    BASE64URL, BODY_TRIMMED, MAX_ATTACHMENTS, MAX_BODY_LENGTH, MAX_EMOJI_LENGTH, MAX_ENDPOINT_LENGTH, MAX_REF_LENGTH,
    MAX_SEQ, ROOM_NAME, UPLOAD_ID,
)


class FrameError(Exception):
    """A request the server refuses; becomes an `error` frame, the socket stays open."""

    def __init__(self, code: str, detail: str, ref: str | None = None):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.ref = ref


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not.
    raise ValueError(f"{name} is not JSON")


def _parse_int(digits: str) -> int | float:
    # Python refuses to convert more than 4300 digits (a ValueError, which would
    # read as bad_json). No field takes a number that long: a float fails every
    # integer check, so the frame is answered as out of range instead.
    if len(digits) > 40:
        return float(digits)
    return int(digits)


def decode(text: str | bytes) -> dict:
    if not isinstance(text, str):
        raise FrameError("bad_json", "frames must be JSON text, not binary")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(value, dict):
        raise FrameError("bad_json", "a frame must be a JSON object")
    return value


def _is_text(value: str) -> bool:
    # JSON may spell lone UTF-16 surrogates ("\ud800"); they are not text and
    # could not be stored or sent back as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable(value: str) -> bool:
    # PostgreSQL's text columns cannot hold U+0000, so neither can a stored field.
    return _is_text(value) and "\x00" not in value


class Fields:
    """Reads typed fields off one decoded frame; errors carry the frame's ref."""

    def __init__(self, data: dict, ref: str | None):
        self.data = data
        self.ref = ref

    def fail(self, detail: str, code: str = "bad_frame") -> FrameError:
        return FrameError(code, detail, self.ref)

    def string(self, name: str, max_length: int, *, min_length: int = 1) -> str:
        value = self.data.get(name)
        if not isinstance(value, str) or not is_storable(value):
            raise self.fail(f"'{name}' must be a string")
        if not min_length <= len(value) <= max_length:
            raise self.fail(f"'{name}' must be {min_length} to {max_length} characters")
        return value

    def integer(self, name: str, minimum: int, maximum: int = MAX_SEQ, *, default: int | None = None) -> int | None:
        if name not in self.data and default is not None:
            return default
        value = self.data.get(name)
        # bool is a subclass of int in Python: true must not pass as 1.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"'{name}' must be an integer")
        if not minimum <= value <= maximum:
            raise self.fail(f"'{name}' must be between {minimum} and {maximum}")
        return value

    def optional_integer(self, name: str, minimum: int) -> int | None:
        if self.data.get(name) is None:
            return None
        return self.integer(name, minimum)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise self.fail(f"'{name}' must be true or false")
        return value

    def emoji(self) -> str:
        value = self.data.get("emoji")
        if not isinstance(value, str):
            raise self.fail("'emoji' must be a string")
        if (
            not 1 <= len(value) <= MAX_EMOJI_LENGTH or not is_storable(value)
            or any(c in BODY_TRIMMED or unicodedata.category(c) == "Cc" for c in value)
        ):
            raise self.fail(
                f"an emoji is 1 to {MAX_EMOJI_LENGTH} characters without white space", code="invalid_emoji"
            )
        return value

    def room(self) -> str:
        value = self.data.get("room")
        if not isinstance(value, str):
            raise self.fail("'room' must be a string")
        if not ROOM_NAME.fullmatch(value):
            raise self.fail("room names match ^[a-z0-9][a-z0-9_-]{0,63}$", code="invalid_room")
        return value

    def body(self, *, may_be_empty: bool = False) -> str:
        value = self.data.get("body")
        if value is None and may_be_empty:
            return ""
        if not isinstance(value, str) or not is_storable(value):
            raise self.fail("'body' must be a string")
        body = value.strip(BODY_TRIMMED)
        if not (0 if may_be_empty else 1) <= len(body) <= MAX_BODY_LENGTH:
            raise self.fail(f"a body is 1 to {MAX_BODY_LENGTH} characters after trimming", code="invalid_body")
        return body

    def attachments(self) -> tuple[str, ...]:
        """Upload ids, each once, in their order; whether they are the sender's
        own and free is the send's statement's to say."""
        value = self.data.get("attachments")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail("'attachments' must be a list of upload ids")
        ids = tuple(dict.fromkeys(value))
        if len(ids) > MAX_ATTACHMENTS:
            raise self.fail(f"a message holds at most {MAX_ATTACHMENTS} attachments", code="invalid_attachment")
        if not all(UPLOAD_ID.fullmatch(item) for item in ids):
            raise self.fail("an attachment id is not one of your uploads", code="invalid_attachment")
        return ids


    def push_key(self, name: str, size: int) -> str:
        """A key of `keys`: base64url (padding optional) of exactly `size` bytes,
        returned without padding."""
        keys = self.data.get("keys")
        value = keys.get(name) if isinstance(keys, dict) else None
        if not isinstance(value, str) or not BASE64URL.fullmatch(value):
            raise self.fail(f"'keys.{name}' must be base64url")
        unpadded = value.rstrip("=")
        try:
            decoded = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
        except (binascii.Error, ValueError):
            raise self.fail(f"'keys.{name}' must be base64url") from None
        if len(decoded) != size:
            raise self.fail(f"'keys.{name}' must decode to {size} bytes")
        return unpadded

    def endpoint(self) -> str:
        """A push service's URL: https, or http to a loopback host where allowed
        (DEBUG, CHAT_PUSH_ALLOW_HTTP: a push service of one's own on this machine)."""
        value = self.string("endpoint", MAX_ENDPOINT_LENGTH)
        try:
            url = urlsplit(value)
            host = url.hostname
            url.port  # noqa: B018 (raises ValueError for a port that is not one)
        except ValueError:
            raise self.fail("'endpoint' must be an https URL") from None
        plain = "".join(value.split()) == value and value.isprintable()
        if not plain or not host or url.username is not None or url.password is not None:
            raise self.fail("'endpoint' must be an https URL")
        if url.scheme == "https" or (url.scheme == "http" and plain_http_allowed() and _is_loopback(host)):
            return value
        raise self.fail("'endpoint' must be an https URL")


def plain_http_allowed() -> bool:
    return bool(settings.DEBUG or getattr(settings, "CHAT_PUSH_ALLOW_HTTP", False))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def frame_ref(data: dict) -> str | None:
    if "ref" not in data or data["ref"] is None:
        return None
    ref = data["ref"]
    if not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH or not _is_text(ref):
        # An unusable ref is not echoed: the error goes out without one.
        raise FrameError("bad_frame", f"'ref' must be a string of at most {MAX_REF_LENGTH} characters")
    return ref
