"""JSON session auth: /api/session, /api/users and /api/password. CSRF protection stays on."""

import json
import math

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie

from . import limits, sockets
from .services import password_change, user_create, user_wire

_PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


class BadRequest(Exception):
    """A body the API cannot use; its text goes to the client."""


def error(text: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": text, **extra}, status=status)


def too_many(text: str, *, retry_after: float) -> JsonResponse:
    """429 with Retry-After in whole seconds, never 0: the client waits at least that."""
    response = error(text, 429)
    response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def json_fields(request, *names: str) -> dict[str, str]:
    """The named string fields of a JSON object body, or BadRequest."""
    try:
        data = json.loads(request.body.decode("utf-8"))
    except RequestDataTooBig:
        raise BadRequest("The body is too large.") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    for name in names:
        if name not in data:
            raise BadRequest(f'The field "{name}" is required.')
        if not isinstance(data[name], str) or not _is_text(data[name]):
            raise BadRequest(f'The field "{name}" must be a string.')
    return {name: data[name] for name in names}


_MISSING = {
    ("username",): "Enter your username.",
    ("password",): "Enter your password.",
    ("username", "password"): "Enter your username and password.",
}


def missing_credentials(fields: dict[str, str]) -> tuple[tuple[str, ...], str] | None:
    """Which of username and password are empty (a username of only spaces is
    empty), and the sentence that asks for them; None when both are given."""
    missing = tuple(name for name in ("username", "password")
                    if not (fields[name].strip() if name == "username" else fields[name]))
    return (missing, _MISSING[missing]) if missing else None


def _is_text(value: str) -> bool:
    # JSON may spell lone surrogates ("\\ud800"); no hasher or database takes
    # them, and PostgreSQL refuses U+0000 in any query.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def methods(**handlers):
    """One view per path: the HTTP method picks the handler; others get a JSON 405."""

    def view(request, *args, **kwargs):
        handler = handlers.get(request.method.lower())
        if handler is None:
            response = error("Method not allowed.", 405)
            response["Allow"] = ", ".join(sorted(name.upper() for name in handlers))
            return response
        try:
            return handler(request, *args, **kwargs)
        except BadRequest as problem:
            return error(str(problem), 400)

    return view


# ---- /api/session -------------------------------------------------------------


def session_user(user) -> dict:
    """The USER of an HTTP answer about one's own session: staff are marked, so
    the browser app offers them the moderation the server already allows them
    (every room's owner); everyone else gets exactly USER."""
    wire = user_wire(user)
    if user.is_staff:
        wire["is_staff"] = True
    return wire


@ensure_csrf_cookie
def session_get(request):
    user = session_user(request.user) if request.user.is_authenticated else None
    return JsonResponse({"user": user})


def session_post(request):
    fields = json_fields(request, "username", "password")
    # Said before any check, so an empty form neither counts as a failed login nor reads as one.
    if missing := missing_credentials(fields):
        return error(missing[1], 400)
    user = authenticate(request, username=fields["username"], password=fields["password"])
    if user is None:
        # Also a locked-out login, or the failure that reached the limit:
        # AxesMiddleware answers those with accounts.lockout's 429 instead.
        return error("Wrong username or password.", 400)
    _login(request, user)
    return JsonResponse({"user": session_user(user)})


def session_delete(request):
    user_id, session_key = request.user.pk, request.session.session_key
    logout(request)
    if user_id is not None and session_key:
        sockets.close_session(user_id=user_id, session_key=session_key)
    return HttpResponse(status=204)


session = methods(get=session_get, post=session_post, delete=session_delete)


# ---- /api/users ---------------------------------------------------------------


def users_post(request):
    fields = json_fields(request, "username", "password")
    if missing := missing_credentials(fields):
        names, text = missing
        return error(text, 400, fields={name: ["This field is required."] for name in names})
    # Every well-formed attempt counts, created or not: it also limits asking
    # which usernames are taken.
    wait = limits.signup_wait(request)
    if wait is not None:
        return too_many("Too many sign-ups from this address. Try again later.", retry_after=wait)
    try:
        user = user_create(username=fields["username"], password=fields["password"])
    except ValidationError as invalid:
        return error("The account could not be created.", 400, fields=invalid.message_dict)
    _login(request, user)
    return JsonResponse({"user": session_user(user)}, status=201)


users = methods(post=users_post)


# ---- /api/password ------------------------------------------------------------


def password_post(request):
    if not request.user.is_authenticated:
        return error("Log in to change your password.", 401)
    fields = json_fields(request, "old_password", "new_password")
    # The key the session's sockets were opened with; the change cycles it.
    session_key = request.session.session_key
    try:
        user = password_change(user=request.user, old_password=fields["old_password"],
                               new_password=fields["new_password"], request=request)
    except ValidationError as invalid:
        # A wrong old password that reaches the lock-out limit becomes a 429 (AxesMiddleware).
        return error("The password could not be changed.", 400, fields=invalid.message_dict)
    # This session stays logged in; every other one no longer matches the
    # password and is anonymous from its next request on. Their sockets close now.
    update_session_auth_hash(request, user)
    sockets.close_sessions(user_id=user.pk, keep_session_key=session_key, kept_key_now=request.session.session_key)
    return JsonResponse({"user": session_user(user)})


password = methods(post=password_post)


# ---- the rest of /api/ --------------------------------------------------------


def not_found(request, *args, **kwargs):
    return error("not found", 404)


def csrf_failure(request, reason: str = ""):
    """settings.CSRF_FAILURE_VIEW: JSON, not Django's HTML page."""
    return error(
        f"CSRF check failed ({reason.rstrip('.')}): send the csrftoken cookie's value in X-CSRFToken.",
        403,
    )


def _login(request, user) -> None:
    # Logging in as someone else ends the previous user's session and its sockets.
    previous_id, previous_key = request.user.pk, request.session.session_key
    # A new account comes from user_create, not authenticate(): name the backend.
    login(request, user, backend=getattr(user, "backend", _PASSWORD_BACKEND))
    if previous_id is not None and previous_id != user.pk and previous_key:
        sockets.close_session(user_id=previous_id, session_key=previous_key)
