"""Rooms, their messages and who has joined them.

The database itself keeps the invariants the wire contract promises: one `seq`
per room position and one stored message per (author, client_id), so no code
path and no race between processes can break them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Room(models.Model):
    name = models.CharField(max_length=64, unique=True)
    # The seq of the newest message; incrementing it under the row lock hands
    # out the next seq, so it is also the room's message count.
    last_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    body = models.TextField()
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index every history query walks.
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_room_seq_unique"),
            # Makes a resent `send` idempotent, across sockets and processes.
            models.UniqueConstraint(fields=["author", "client_id"], name="chat_message_author_client_id_unique"),
        ]
        indexes = [
            # The send rate counts a user's messages of the last few seconds.
            models.Index(fields=["author", "created_at"], name="chat_message_author_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    # Messages with a seq above this one are unread for the user.
    last_read_seq = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="chat_membership_user_room_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.room_id}"
