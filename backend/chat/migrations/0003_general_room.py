"""The public room `general` exists from the start, so a first-time user lands in it."""

from django.db import migrations

GENERAL = "general"


def create_general(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    # Idempotent: a `general` someone made by joining it before this ran is kept as it is.
    Room.objects.get_or_create(name=GENERAL)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0002_message_author_recent"),
    ]

    operations = [
        # Reversed, the room stays: it may hold messages by then.
        migrations.RunPython(create_general, migrations.RunPython.noop),
    ]
