"""Login lock-out, by django-axes: too many failed logins for one username, or
from one client address, and logging in is refused for a while, even with the
right password.

axes counts failures in its database tables (AccessAttempt), so the count is
shared by every process on PostgreSQL. Its settings live in config.settings
(CHAT_LOGIN_FAILURE_LIMIT, CHAT_LOGIN_LOCKOUT); these are the hooks they name.
"""

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.utils import timezone

# axes stores the attempted username in a CharField of this length.
_USERNAME_MAX = 255


def attempted_username(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username as typed. Usernames are matched
    exactly at login, so only the exact string can ever get in; a longer one
    than axes can store cannot be a user's (Django's are at most 150)."""
    username = (credentials or {}).get("username")
    return username[:_USERNAME_MAX] if isinstance(username, str) else None


def lockout_response(request, *args, **kwargs):
    """AXES_LOCKOUT_CALLABLE: the API's JSON 429, never axes' HTML page."""
    from .views import too_many  # views import this module's neighbours; imported late

    credentials = getattr(request, "axes_credentials", None)
    return too_many(
        "Too many failed logins for this account or from this address. Try again later.",
        retry_after=lockout_remaining(request, credentials).total_seconds(),
    )


def lockout_remaining(request, credentials: dict | None) -> timedelta:
    """How long until the lock on this request's username and address lifts.

    axes keeps one row per (username, address, user agent) with its failure
    count and its latest failure; a row stops counting once the cool-off has
    passed since that latest failure. Newest first, the row at which the count
    reaches the limit is the one whose expiry lifts the lock."""
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request)
    now = timezone.now()
    remaining = timedelta(0)
    for attempts in handler.get_user_attempts(request, credentials):
        counted = 0
        for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ):
            counted += failures
            if counted >= limit:
                remaining = max(remaining, attempt_time + cool_off - now)
                break
    return remaining


def reset_username_failures(sender, request, user, **kwargs) -> None:
    """On user_logged_in: the account's owner is back, so its failures (from
    every address) stop counting. Not axes' AXES_RESET_ON_SUCCESS, which also
    forgets the failures of the request's address: anyone with an account of
    their own could then wipe their address's count between guesses."""
    AxesProxyHandler.reset_attempts(username=user.get_username())
