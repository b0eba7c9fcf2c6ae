"""The wire shapes of messages and rooms, and messages' rows made into them."""

from datetime import datetime, timezone
from typing import TypedDict

from django.db.models import QuerySet

from accounts.services import user_wire
from chat.models import Mention, Message, Reaction, Upload
from chat.uploads.wire import AttachmentDict, attachments_wire


class UserDict(TypedDict):
    id: int
    username: str


class ReplyDict(TypedDict):
    seq: int
    author: UserDict
    excerpt: str


class ReactionDict(TypedDict):
    emoji: str
    users: list[UserDict]


class MessageDict(TypedDict):
    id: int
    room: str
    seq: int
    author: UserDict
    body: str
    created_at: str
    client_id: str
    rev: int
    reply_to: ReplyDict | None
    mentions: list[int]
    edited_at: str | None
    deleted: bool
    reactions: list[ReactionDict]
    attachments: list[AttachmentDict]


class RoomDict(TypedDict):
    """ROOMINFO without `online` (the hub's): a `rooms` entry."""

    name: str
    kind: str
    topic: str
    owner: UserDict | None
    members: list[UserDict] | None  # private and dm rooms; None for public ones
    last_seq: int
    member: bool
    unread: int
    mentions: int  # unread messages (above the read marker) that mention this user
    rev: int



def timestamp_to_wire(moment: datetime) -> str:
    """UTC with microseconds and a Z, e.g. 2026-11-21T10:00:00.000000Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_wire(
    *, id: int, room: str, seq: int, author: UserDict, body: str, created_at: datetime, client_id: str, rev: int,
    reply_to: ReplyDict | None = None, mentions: list[int] = (), edited_at: datetime | None = None,
    deleted: bool = False, reactions: list[ReactionDict] = (), attachments: list[AttachmentDict] = (),
) -> MessageDict:
    """The wire MESSAGE from its parts (a model, or a raw statement's row): the
    one place that shapes it. A deleted message shows nothing of what it said."""
    return {
        "id": id,
        "room": room,
        "seq": seq,
        "author": author,
        "body": "" if deleted else body,
        "created_at": timestamp_to_wire(created_at),
        "client_id": client_id,
        "rev": rev,
        "reply_to": None if deleted else reply_to,
        "mentions": [] if deleted else sorted(mentions),
        "edited_at": None if edited_at is None else timestamp_to_wire(edited_at),
        "deleted": deleted,
        "reactions": [] if deleted else list(reactions),
        "attachments": [] if deleted else list(attachments),
    }


def reply_wire(*, seq: int | None, author_id: int | None, username: str | None, excerpt: str) -> ReplyDict | None:
    """reply_to from its columns (None when the message replies to nothing)."""
    if seq is None:
        return None
    return {"seq": seq, "author": {"id": author_id, "username": username}, "excerpt": excerpt}


def reactions_wire(rows: list[tuple[str, int, str]]) -> list[ReactionDict]:
    """(emoji, user id, username) rows of one message, in the order they were
    added → each emoji once, in the order it was first added, its users by id."""
    reactions: dict[str, list[UserDict]] = {}
    for emoji, user_id, username in rows:
        reactions.setdefault(emoji, []).append({"id": user_id, "username": username})
    return [{"emoji": emoji, "users": sorted(users, key=lambda user: user["id"])} for emoji, users in reactions.items()]


# An ATTACHMENT's columns (wire.attachments_wire), in a message's order.
ATTACHMENT_COLUMNS = ("id", "name", "size", "content_type", "width", "height")


def messages_to_dicts(messages: list[Message]) -> list[MessageDict]:
    """Wire MESSAGEs of model rows from `_messages()`: three more queries for
    all of their reactions, mentions and attachments, whatever their number."""
    live = [message.pk for message in messages if not message.deleted]
    reactions: dict[int, list[tuple[str, int, str]]] = {}
    mentions: dict[int, list[int]] = {}
    attachments: dict[int, list[tuple]] = {}
    if live:
        rows = Upload.objects.filter(message_id__in=live).order_by("message_id", "position")
        for message_id, *columns in rows.values_list("message_id", *ATTACHMENT_COLUMNS):
            attachments.setdefault(message_id, []).append(columns)
        rows = (
            Reaction.objects.filter(message_id__in=live).order_by("pk")
            .values_list("message_id", "emoji", "user_id", "user__username")
        )
        for message_id, emoji, user_id, username in rows:
            reactions.setdefault(message_id, []).append((emoji, user_id, username))
        for message_id, user_id in Mention.objects.filter(message_id__in=live).values_list("message_id", "user_id"):
            mentions.setdefault(message_id, []).append(user_id)
    return [
        message_wire(
            id=message.pk, room=message.room.name, seq=message.seq, author=user_wire(message.author),
            body=message.body, created_at=message.created_at, client_id=message.client_id, rev=message.rev,
            reply_to=None if message.reply_to is None else reply_wire(
                seq=message.reply_to.seq, author_id=message.reply_to.author_id,
                username=message.reply_to.author.username, excerpt=message.reply_excerpt,
            ),
            mentions=mentions.get(message.pk, []), edited_at=message.edited_at, deleted=message.deleted,
            reactions=reactions_wire(reactions.get(message.pk, [])),
            attachments=attachments_wire(attachments.get(message.pk, [])),
        )
        for message in messages
    ]


def message_to_dict(message: Message) -> MessageDict:
    """The wire MESSAGE of one row of `_messages()`."""
    return messages_to_dicts([message])[0]


def _messages() -> QuerySet[Message]:
    # One query per page: the room, author and replied-to message come in the
    # same SELECT, and only the columns the wire shape needs (not the author's
    # password hash); messages_to_dicts adds reactions and mentions.
    return Message.objects.select_related("room", "author", "reply_to__author").only(
        "id", "seq", "body", "client_id", "created_at", "rev", "edited_at", "deleted", "reply_excerpt",
        "room__name", "author__username", "reply_to__seq", "reply_to__author__username",
    )


def _page(rows: list[Message], limit: int, *, newest_first: bool) -> tuple[list[MessageDict], bool]:
    """Rows were fetched with one extra to learn whether more exist beyond `limit`."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    if newest_first:
        rows.reverse()
    return messages_to_dicts(rows), has_more
