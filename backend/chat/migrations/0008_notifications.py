"""Notifications (version 2): each user's level per room and their browsers'
Web Push subscriptions (chat/notify.py, chat/push.py)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0007_user_lower_username'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='NotifyLevel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.CharField(choices=[('all', 'All'), ('mentions', 'Mentions'), ('nothing', 'Nothing')], max_length=8)),
                ('room', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='chat.room')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('level', 'all')), fields=['room'], name='chat_notifylevel_room_all')],
                'constraints': [models.UniqueConstraint(fields=('user', 'room'), name='chat_notifylevel_user_room_unique'), models.CheckConstraint(condition=models.Q(('level__in', ['all', 'mentions', 'nothing'])), name='chat_notifylevel_level_valid')],
            },
        ),
        migrations.CreateModel(
            name='PushSubscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('endpoint', models.CharField(max_length=2048, unique=True)),
                ('p256dh', models.CharField(max_length=88)),
                ('auth', models.CharField(max_length=24)),
                ('subscribed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('user', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['user', 'subscribed_at'], name='chat_pushsub_user_recent')],
            },
        ),
    ]
