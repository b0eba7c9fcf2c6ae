"""Rooms, their messages and who has joined them.

The database itself keeps the invariants the wire contract promises: one `seq`
per room position, one stored message per (author, client_id), one room per
name (so one dm room per set of users: its name is made from their ids) and a
`dm-` name for dm rooms only, so no code path and no race between processes
can break them.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


# The name every dm room has and no other room may have.
DM_PREFIX = "dm-"


class Room(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public"  # everybody reads it
        PRIVATE = "private"  # its members (and staff) read it; members invite others
        DM = "dm", "Direct message"  # its 2 to 8 members only, fixed for ever

    MAX_TOPIC_LENGTH = 250

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PUBLIC)
    topic = models.CharField(max_length=MAX_TOPIC_LENGTH, blank=True, default="")
    # The creator of a room made by `create`; none for dm rooms and rooms made by `join`.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_rooms"
    )
    # The seq of the newest message; incrementing it under the row lock hands
    # out the next seq, so it is also the room's message count.
    last_seq = models.BigIntegerField(default=0)
    # The rev of the newest change (a new message, an edit, a delete, a reaction
    # added or removed): incremented under the same row lock, in the same
    # transaction as the change it numbers, so revs are gapless and commit in order.
    last_rev = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # A dm room is found again by its name: never a public or private room of that name.
            models.CheckConstraint(
                condition=models.Q(kind="dm", name__startswith=DM_PREFIX)
                | (~models.Q(kind="dm") & ~models.Q(name__startswith=DM_PREFIX)),
                name="chat_room_dm_name_iff_dm",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    # No index of their own on room and author: the unique constraints below
    # lead with them and serve every lookup by either (and the foreign keys'
    # cascades); each index more is one more write at every send.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages", db_index=False)
    seq = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages", db_index=False
    )
    body = models.TextField()
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # A deleted message keeps its seq (the log stays gapless); its body is blanked.
    deleted = models.BooleanField(default=False, db_default=False)  # raw INSERTs (services.SendStatement) leave it out
    # The room's rev of this message's last change (its storing, at first).
    rev = models.BigIntegerField(default=0)
    edited_at = models.DateTimeField(null=True, blank=True)
    # The message this one replies to (same room), and the first characters of
    # its body as they were when this reply was stored.
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reply_excerpt = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            # Also the index every history query walks.
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_room_seq_unique"),
            # One change, one rev; also the index `changes` walks.
            models.UniqueConstraint(fields=["room", "rev"], name="chat_message_room_rev_unique"),
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
    """A user's place in a room: in a public room, that they joined it (and their
    read marker); in a private or dm room, that they may read it at all."""

    # Looked up by (user, room)'s unique constraint, which leads with user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships", db_index=False
    )
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


class Mention(models.Model):
    """A user a message names as @username who may read its room. Its room and
    seq are copied here so a room's unread mentions are one index range."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mention_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="chat_mention_message_user_unique"),
        ]
        indexes = [models.Index(fields=["user", "room", "seq"], name="chat_mention_user_room_seq")]


class Reaction(models.Model):
    """One user's emoji on one message; the ids give the order emoji were first added."""

    MAX_EMOJI_PER_MESSAGE = 20

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "emoji", "user"], name="chat_reaction_unique"),
        ]


# ---- notifications ------------------------------------------------------------------


class NotifyLevel(models.Model):
    """What a user is notified of in one room (Web Push and the app's desktop
    notifications alike). No row: the default, "all" in dm rooms and
    "mentions" elsewhere (chat/notifications/selectors.py, `default_level`)."""

    class Level(models.TextChoices):
        ALL = "all"  # every new message by someone else
        MENTIONS = "mentions"  # messages that mention the user
        NOTHING = "nothing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="chat_notifylevel_user_room_unique"),
            models.CheckConstraint(
                condition=models.Q(level__in=["all", "mentions", "nothing"]), name="chat_notifylevel_level_valid"
            ),
        ]
        indexes = [
            # The send's statement asks whether anyone in the room wants every
            # message: an index of only those rows, usually none.
            models.Index(fields=["room"], condition=models.Q(level="all"), name="chat_notifylevel_room_all"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.room_id}: {self.level}"


class PushSubscription(models.Model):
    """One browser's Web Push subscription (its push service's endpoint and the
    keys that encrypt for it), kept for the user who made it last: an endpoint
    is one browser profile, so another user subscribing it takes it over."""

    MAX_ENDPOINT_LENGTH = 2048

    # Indexed by chat_pushsub_user_recent, which leads with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.CharField(max_length=MAX_ENDPOINT_LENGTH, unique=True)
    # base64url without padding: a P-256 point (65 bytes) and an auth secret (16 bytes).
    p256dh = models.CharField(max_length=88)
    auth = models.CharField(max_length=24)
    # When it was last subscribed; past a user's cap the oldest goes first.
    subscribed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "subscribed_at"], name="chat_pushsub_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.endpoint[:40]}"
def new_upload_id() -> str:
    # 144 random bits: the id is in every file URL, so it must not be guessable.
    return secrets.token_urlsafe(18)


class Upload(models.Model):
    """A file a user uploaded (POST /api/uploads), and the message that holds it
    once a `send` names it. One that no message holds after a day, and those of
    deleted messages, are removed by `manage.py chat_cleanup`."""

    MAX_PER_MESSAGE = 10
    MAX_NAME_LENGTH = 200

    id = models.CharField(primary_key=True, max_length=24, default=new_upload_id, editable=False)
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=255)
    # Names in the "uploads" storage (settings.STORAGES); no thumbnail unless an image.
    file = models.CharField(max_length=255)
    thumbnail = models.CharField(max_length=255, blank=True, default="")
    # Set for images only (the wire's `image`); never both null and not.
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    # Linked by the send's own statement (services.SendStatement); a hard-deleted
    # message leaves its files to the clean-up.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    # Its place in the message's `attachments`.
    position = models.SmallIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The clean-up's walk over uploads no message holds.
            models.Index(fields=["created_at"], name="chat_upload_unheld", condition=models.Q(message__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"
