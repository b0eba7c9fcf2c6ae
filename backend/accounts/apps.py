from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import lockout

        user_logged_in.connect(lockout.reset_username_failures, dispatch_uid="accounts.reset_username_failures")
