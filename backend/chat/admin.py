"""Staff's admin of rooms and messages (/admin/).

A message is never deleted as a row: the room's `seq` stays gapless, so
"delete" is a tombstone, the same change as version 2's `delete` (the room's
next rev, and `update` to the room's sockets).
A room's owner may be changed; the new owner of a private room becomes a
member, or they could not read it.
"""

from asgiref.sync import async_to_sync
from django.contrib import admin
from django.db import transaction

from chat import events
from chat.models import Membership, Message, Room
from chat.revisions import message_tombstone


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "last_read_seq", "joined_at"]
    readonly_fields = ["last_read_seq", "joined_at"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "owner", "topic", "last_seq", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "topic", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    fields = ["name", "kind", "owner", "topic", "last_seq", "created_at"]
    readonly_fields = ["name", "kind", "last_seq", "created_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False  # rooms come from the socket's `join`, `create` and `dm`

    def has_delete_permission(self, request, obj=None):
        return False  # a room's messages and seq are its record

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.owner_id is not None and obj.kind == Room.Kind.PRIVATE:
            Membership.objects.get_or_create(user_id=obj.owner_id, room_id=obj.pk)


@admin.action(description="Delete the selected messages (the seq stays, the body goes)")
def tombstone(modeladmin, request, queryset):
    # Each one a change of its own (the room's next rev), and the room is told.
    deleted = []
    for message_id in queryset.filter(deleted=False).values_list("pk", flat=True):
        message = message_tombstone(message_id=message_id)
        if message is not None:
            deleted.append(message)
    for message in deleted:
        async_to_sync(events.message_changed)(message)
    modeladmin.message_user(request, f"{len(deleted)} message(s) deleted.")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "author", "excerpt", "created_at", "deleted"]
    list_filter = ["deleted", "room__kind"]
    search_fields = ["body", "author__username", "room__name"]
    list_select_related = ["room", "author"]
    show_full_result_count = False  # no count(*) of a big table per page
    actions = [tombstone]
    fields = ["room", "seq", "author", "body", "client_id", "created_at", "deleted"]
    readonly_fields = fields

    @admin.display(description="body")
    def excerpt(self, message: Message) -> str:
        return message.body[:80]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # see tombstone

    def has_change_permission(self, request, obj=None):
        return False  # read-only page; the action deletes
