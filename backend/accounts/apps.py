from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from . import lockout, services, sockets

        user_logged_in.connect(lockout.reset_username_failures, dispatch_uid="accounts.reset_username_failures")
        User = get_user_model()
        # First: a failed skeleton insert stops a sign-up before anything else happens.
        post_save.connect(services.user_saved, sender=User, dispatch_uid="accounts.services.user_saved")
        post_save.connect(sockets.user_saved, sender=User, dispatch_uid="accounts.sockets.user_saved")
        post_delete.connect(sockets.user_deleted, sender=User, dispatch_uid="accounts.sockets.user_deleted")
