"""@mentions: which names a body mentions, and which users they are.

A mention is `@` and a username, at the start of the body or after a
character that is not a letter, digit or `@` (so an e-mail address mentions
nobody). The name runs over letters, digits and `.`, `+`, `-`, `_` (Django's
username characters but `@`); a trailing `.`, `+` or `-` may also be
punctuation ("thanks @bob."), so both readings are tried. Names match whatever
their case; only users who may read the room (selectors.rooms_readable_by)
count, so a mention never tells anyone a room exists.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from chat.selectors import rooms_readable_by

MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")
# The names one message may mention; more are ignored (a body is at most 4,000 characters).
MAX_MENTIONS = 50


def mentioned_names(body: str) -> list[str]:
    """The lowercased candidate usernames a body mentions, first seen first."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1)
        for candidate in (name.lower(), name.rstrip(".+-").lower()):
            if candidate and candidate not in names:
                names.append(candidate)
    return names[:MAX_MENTIONS]


def mentioned_user_ids(*, room_id: int, body: str) -> list[int]:
    """The ids of the active users the body names who may read the room, ascending."""
    names = mentioned_names(body)
    if not names:
        return []
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    named = Q()
    for name in names:
        named |= Q(**{f"{field}__iexact": name})
    users = user_model.objects.filter(named, is_active=True).only("id", "is_staff")
    return sorted(user.pk for user in users if _may_read(user, room_id))


def _may_read(user: Any, room_id: int) -> bool:
    return rooms_readable_by(user).filter(pk=room_id).exists()
