from django.conf import settings
from django.db import migrations, models
from django.db.models.deletion import CASCADE

BATCH = 1000


def backfill(apps, schema_editor):
    """A skeleton for every existing user. Where two existing names already
    look alike, the older account keeps the skeleton; its row guards the name
    for both, and the newer one is left without a row."""
    from django.contrib.auth import get_user_model

    from accounts.skeletons import username_skeleton

    User = apps.get_model(settings.AUTH_USER_MODEL)
    UsernameSkeleton = apps.get_model("accounts", "UsernameSkeleton")
    # Historical models lack class attributes such as USERNAME_FIELD.
    field = get_user_model().USERNAME_FIELD
    users = User._default_manager.order_by("pk").values_list("pk", field)
    batch = []
    for pk, username in users.iterator(chunk_size=BATCH):
        batch.append(UsernameSkeleton(user_id=pk, skeleton=username_skeleton(username)))
        if len(batch) == BATCH:
            UsernameSkeleton.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    UsernameSkeleton.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="UsernameSkeleton",
            fields=[
                ("user", models.OneToOneField(on_delete=CASCADE, primary_key=True, related_name="username_skeleton",
                                              serialize=False, to=settings.AUTH_USER_MODEL)),
                ("skeleton", models.TextField(unique=True)),
            ],
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
