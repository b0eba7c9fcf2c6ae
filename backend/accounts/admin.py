"""Staff's admin of users: Django's own, with a deactivate action that saves
each user (a queryset update sends no signal), so their sockets close with
4401 on every process (accounts.sockets.user_saved)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin


@admin.action(description="Deactivate the selected users (their sockets close)")
def deactivate(modeladmin, request, queryset):
    count = 0
    for user in queryset.filter(is_active=True):
        user.is_active = False
        user.save(update_fields=["is_active"])
        count += 1
    modeladmin.message_user(request, f"{count} user(s) deactivated.")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ChatUserAdmin(UserAdmin):
    actions = [deactivate]
