"""Rooms get a kind (public, private, dm), a topic and an owner; messages a
`deleted` flag. A `dm-` name is a dm room's only: a public room a version 1
`join` made under such a name is renamed `x<name>` (`x<name>-2`, ... if taken)
before the constraint holds it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_public_dm_names(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    for room in Room.objects.filter(name__startswith="dm-"):
        base = ("x" + room.name)[:60]
        name, n = base, 1
        while Room.objects.filter(name=name).exists():
            n += 1
            name = f"{base}-{n}"
        room.name = name
        room.save(update_fields=["name"])


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0003_general_room'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='deleted',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name='room',
            name='kind',
            field=models.CharField(choices=[('public', 'Public'), ('private', 'Private'), ('dm', 'Direct message')], default='public', max_length=8),
        ),
        migrations.AddField(
            model_name='room',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='owned_rooms', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='room',
            name='topic',
            field=models.CharField(blank=True, default='', max_length=250),
        ),
        migrations.RunPython(rename_public_dm_names, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='room',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'dm'), ('name__startswith', 'dm-')), models.Q(models.Q(('kind', 'dm'), _negated=True), models.Q(('name__startswith', 'dm-'), _negated=True)), _connector='OR'), name='chat_room_dm_name_iff_dm'),
        ),
    ]
