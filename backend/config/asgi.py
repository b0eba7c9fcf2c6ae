"""ASGI entry point: Django for HTTP (but /metrics), the chat consumer for /ws/."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from chat.deadlines import limit_statements  # noqa: E402
from chat.origin import OriginCheck  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from chat.session import SessionAuthMiddleware  # noqa: E402
from web.metrics import MetricsEndpoint  # noqa: E402

# The serving process's statements are cut off after CHAT_DB_TIMEOUT; management
# commands (migrate, seeding) do not load this module and are not limited.
connection_created.connect(limit_statements)

application = ProtocolTypeRouter(
    {
        # /metrics is answered before Django (web/metrics.py); everything else is Django's.
        "http": MetricsEndpoint(django_asgi_app),
        "websocket": OriginCheck(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
