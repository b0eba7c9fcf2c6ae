from django.apps import AppConfig
from django.apps import apps as global_apps


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate, pre_delete

        from chat.uploads import services

        pre_delete.connect(services.user_deleting, sender=get_user_model(), dispatch_uid="chat.uploads.user_deleting")
        post_migrate.connect(ensure_general, sender=self, dispatch_uid="chat.ensure_general")


def ensure_general(sender, using, apps=global_apps, **kwargs) -> None:
    """`general` exists after every migrate and flush, not only after its migration.

    The migration (0003_general_room) makes it once; a `manage.py flush` (and
    the flush that ends each transactional test) empties every table, and then
    the first user would have no room to land in. Django sends post_migrate
    after both (a flush sends no `apps`: the current models then); the same
    idempotent step as the migration's runs here.
    """
    try:
        room_model = apps.get_model("chat", "Room")
    except LookupError:  # migrated back to before the rooms
        return
    room_model.objects.using(using).get_or_create(name="general")
