"""What the chat domain's writes refuse, in one place: each becomes its `error`
frame in the consumer (or a `forbidden` that hides whether a room exists)."""


class RoomNotFound(Exception):
    """The room does not exist; `room_join` creates rooms."""

    def __init__(self, name: str) -> None:
        super().__init__(f"room {name!r} does not exist")
        self.name = name


class RoomForbidden(Exception):
    """The user may not see the room, or may not change it that way. The client
    hears one `forbidden` text for both and for a room that does not exist, so
    a private room's name never shows through."""

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"room {name!r}: {why or 'not readable by this user'}")
        self.name = name


class RoomExists(Exception):
    """`create` of a name that is taken."""


class MessageNotFound(Exception):
    """No message of that seq in the room, or (where that matters) a deleted one."""

    def __init__(self, room: str, seq: int) -> None:
        super().__init__(f"no message #{seq} in {room!r}")
        self.room, self.seq = room, seq


class InvalidAttachment(Exception):
    """A send names an upload that is not the sender's, or that a message holds already."""


class UserNotFound(Exception):
    """No active user has that username."""

    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}")
        self.username = username


class SendLimited(Exception):
    """The user has stored as many messages as the send rate allows just now."""
