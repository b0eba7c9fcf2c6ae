from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"

    def ready(self) -> None:
        # A bad rate setting (CHAT_SEND_RATE, CHAT_SIGNUP_RATE) stops the server at startup, not at the first send.
        from chat.ratelimit import check_settings

        check_settings()
