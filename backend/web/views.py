"""The SPA shell for every page path, the service worker, and /healthz."""

import asyncio
import hashlib
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from chat.notifications import vapid

logger = logging.getLogger(__name__)

# Each check must answer within this, or the part counts as failing.
HEALTH_TIMEOUT = 2.0

# The shell is tiny and names the current bundle, so it is never cached; the
# hashed bundle files themselves are cached forever (see WHITENOISE_IMMUTABLE_FILE_TEST).
# In Vite's dev mode the page tells Vite's client the nonce for the styles it injects.
# With Web Push configured it carries the server's VAPID public key, read per answer.
class Shell(TemplateView):
    template_name = "web/index.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "vite_dev_mode": settings.VITE_DEV_MODE,
                "vapid_public_key": vapid.public_key()}


shell = never_cache(ensure_csrf_cookie(Shell.as_view()))


def _service_worker_source() -> bytes | None:
    # Built by Vite from frontend/public/sw.js into the bundle's folder (found
    # there without collectstatic), or collected into STATIC_ROOT.
    path = finders.find("sw.js")
    if path:
        with open(path, "rb") as file:
            return file.read()
    if settings.STATIC_ROOT and staticfiles_storage.exists("sw.js"):
        with staticfiles_storage.open("sw.js") as file:
            return file.read()
    return None


@require_safe
def service_worker(request):
    """/sw.js: the Web Push worker at the root, so its scope is the whole site.
    `no-cache`, so the browser asks again on every visit (a 304 when unchanged)
    and a new version reaches people at once."""
    source = _service_worker_source()
    if source is None:
        return HttpResponse("404 not found\n", status=404, content_type="text/plain; charset=utf-8")
    etag = '"%s"' % hashlib.sha256(source).hexdigest()[:32]
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


async def healthz(request):
    database, channel_layer = await asyncio.gather(
        _check("database", _database_round_trip),
        _check("channel_layer", _channel_layer_round_trip),
    )
    parts = {"database": database, "channel_layer": channel_layer}
    healthy = all(state == "ok" for state in parts.values())
    response = JsonResponse(parts, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


async def _check(name: str, round_trip) -> str:
    try:
        await asyncio.wait_for(round_trip(), HEALTH_TIMEOUT)
    except Exception:
        logger.warning("health check failed: %s", name, exc_info=True)
        return "error"
    return "ok"


@sync_to_async
def _database_round_trip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not answer 1")


async def _channel_layer_round_trip() -> None:
    # A group send is what every live frame takes: with Redis it is one PUBLISH
    # and returns once Redis has answered. (A send to a channel of our own and
    # its receive would need an unsubscribe the layer has no call for: each
    # check would leave a subscription behind.)
    await get_channel_layer().group_send("healthz", {"type": "healthz.ping"})
