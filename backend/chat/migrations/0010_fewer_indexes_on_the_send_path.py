"""No index of their own on message.room, message.author and membership.user.

The unique constraints (room, seq), (author, client_id) and (user, room) lead
with those columns and serve every lookup by them, the foreign keys' cascades
included; the single-column indexes only cost a write at every send.

Only the indexes go (DROP INDEX on both databases): Django's AlterField would
rebuild SQLite's chat_message table, and with it drop the full-text search
triggers of 0006.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = [
    # (index, table, column): the names Django gave them in 0001.
    ("chat_message_room_id_5e7d8d78", "chat_message", "room_id"),
    ("chat_message_author_id_923569d5", "chat_message", "author_id"),
    ("chat_membership_user_id_b82c7bc9", "chat_membership", "user_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0009_uploads"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for index, table, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="membership",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_memberships", to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="author",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_messages", to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="room",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages", to="chat.room",
                    ),
                ),
            ],
        ),
    ]
