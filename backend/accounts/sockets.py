"""Closing a user's sockets when their account or session changes.

Logging out, logging in as someone else, changing the password, deactivating
or deleting the account: each closes the sockets concerned with 4401, on every
process, through chat.events. A failure of the channel layer is logged and
never fails the account change itself.
"""

import logging

from asgiref.sync import async_to_sync
from django.db import transaction

logger = logging.getLogger(__name__)


def close_session(*, user_id: int, session_key: str) -> None:
    """The sockets opened with that session (a logout)."""
    from chat import events  # the realtime path; imported late so accounts loads alone

    _send(events.session_closed, user_id=user_id, session_key=session_key)


def close_sessions(*, user_id: int, keep_session_key: str | None = None, kept_key_now: str | None = None) -> None:
    """Every socket of the user, but those opened with `keep_session_key`, which
    from now on go by `kept_key_now` when the session's key changed."""
    from chat import events

    _send(events.user_sessions_closed, user_id=user_id, keep_session_key=keep_session_key, kept_key_now=kept_key_now)


# ---- receivers of the user model's signals (connected in apps.py) ----------------


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """post_save: an account that is (now) inactive keeps no socket open.
    New sockets of an inactive user are refused at the handshake already."""
    if created or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    _close_all_after_commit(instance.pk)


def user_deleted(sender, instance, **kwargs) -> None:
    """post_delete: a deleted account keeps no socket open."""
    _close_all_after_commit(instance.pk)


def _close_all_after_commit(user_id: int) -> None:
    # Not before the commit: a rolled-back deactivation must close nothing.
    transaction.on_commit(lambda: close_sessions(user_id=user_id))


def _send(event, **kwargs) -> None:
    try:
        async_to_sync(event)(**kwargs)
    except Exception:
        # The account change stands; the log says why its sockets stayed open.
        logger.exception("could not close the sockets of user %s", kwargs.get("user_id"))
