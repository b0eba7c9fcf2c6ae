"""The socket's one URL; config/asgi.py wraps it in the origin check and auth."""

from django.urls import path

from chat.consumers import ChatConsumer

websocket_urlpatterns = [path("ws/", ChatConsumer.as_asgi())]
