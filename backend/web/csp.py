"""The Content-Security-Policy header, with the socket's origin of each request.

django-csp writes the policy of settings.CONTENT_SECURITY_POLICY on every
answer. What it cannot know from settings is where this page's socket goes:
ws(s)://<the host the browser asked for>, which behind a proxy is the proxy's
scheme and host. 'self' covers ws: and wss: only in newer browsers, so the
origin is named outright.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from config.settings import websocket_origin


def socket_origin(request: HttpRequest) -> str | None:
    """ws://host or wss://host for the host of the request; None for a host that
    is not in ALLOWED_HOSTS (its answer is a 400, and the host is not to be trusted)."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return websocket_origin(f"{request.scheme}://{host}")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = socket_origin(request)
        if origin is not None and not report_only:
            update = dict(parts.update or {})
            update["connect-src"] = [*update.get("connect-src", ()), origin]
            parts.update = update
        return parts
