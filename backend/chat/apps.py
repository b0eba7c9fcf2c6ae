from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        from chat.uploads import services

        pre_delete.connect(services.user_deleting, sender=get_user_model(), dispatch_uid="chat.uploads.user_deleting")
