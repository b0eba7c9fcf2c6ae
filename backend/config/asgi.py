"""ASGI entry point: Django for HTTP, the chat consumer for /ws/."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.origin import OriginCheck  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.session import SessionAuthMiddleware  # noqa: E402
from chat.transport import patch_daphne  # noqa: E402

patch_daphne()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginCheck(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
