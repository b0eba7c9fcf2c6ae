"""The contract's limits and patterns (docs/protocol.md), one definition each."""

import re

MAX_FRAME_BYTES = 64 * 1024
MAX_REF_LENGTH = 64
MAX_BODY_LENGTH = 4000
MAX_CLIENT_ID_LENGTH = 64
MAX_HISTORY_LIMIT = 100
DEFAULT_HISTORY_LIMIT = 50
# seq columns are 64-bit; a larger number could only fail in the database.
MAX_SEQ = 2**63 - 1
MAX_TOPIC_LENGTH = 250  # models.Room.MAX_TOPIC_LENGTH
MAX_USERNAME_LENGTH = 150  # Django's username field
# A dm names the sender's 1 to 7 others (services.DM_MAX_OTHERS).
MAX_DM_USERS = 7
MAX_EMOJI_LENGTH = 32
# A send names at most this many uploads (models.Upload.MAX_PER_MESSAGE); an
# upload id is models.new_upload_id's.
MAX_ATTACHMENTS = 10
UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")
MAX_QUERY_LENGTH = 500
MAX_SEARCH_LIMIT = 50
DEFAULT_SEARCH_LIMIT = 20
ROOM_KINDS_CREATED = ("public", "private")
NOTIFY_LEVELS = ("all", "mentions", "nothing")
MAX_ENDPOINT_LENGTH = 2048  # models.PushSubscription.MAX_ENDPOINT_LENGTH
# A push subscription's keys, decoded: an uncompressed P-256 point and the auth secret.
P256DH_BYTES = 65
AUTH_BYTES = 16
BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")

ROOM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

# What trimming a body removes at both ends: every character Python calls white
# space (Unicode's spaces and line breaks), what JavaScript's trim() adds to
# those (U+FEFF), and the zero-width spaces a reader cannot see either
# (U+200B, U+2060, and U+180E, a space before Unicode 6.3).
BODY_TRIMMED = "".join(c for c in map(chr, range(0x10000)) if c.isspace()) + "\ufeff\u200b\u2060\u180e"
