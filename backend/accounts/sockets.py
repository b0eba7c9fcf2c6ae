"""Closing a user's sockets when their account or session changes.

Logging out, logging in as someone else, changing the password, deactivating
or deleting the account: each closes the sockets concerned with 4401, on every
process, through chat.events. A failure of the channel layer is logged and
never fails the account change itself.
"""

import logging

from asgiref.sync import async_to_sync

logger = logging.getLogger(__name__)


def close_session(*, user_id: int, session_key: str) -> None:
    """The sockets opened with that session (a logout)."""
    from chat import events  # the realtime path; imported late so accounts loads alone

    _send(events.session_closed, user_id=user_id, session_key=session_key)


def close_sessions(*, user_id: int, keep_session_key: str | None = None) -> None:
    """Every socket of the user, but those opened with `keep_session_key`."""
    from chat import events

    _send(events.user_sessions_closed, user_id=user_id, keep_session_key=keep_session_key)


def _send(event, **kwargs) -> None:
    try:
        async_to_sync(event)(**kwargs)
    except Exception:
        # The account change stands; the log says why its sockets stayed open.
        logger.exception("could not close the sockets of user %s", kwargs.get("user_id"))
