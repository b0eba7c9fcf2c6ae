"""The server's entry point: Daphne's command line with our server class.

    python -m chat.serve --bind 127.0.0.1 --port 8000 [any other daphne option]

`make run`, `make dev`, the compose file and the end-to-end tests all start the
server this way. Once the first TCP port listens it prints, on stdout,
`Chat is running at http://HOST:PORT/` (the address as bound). Without an
application argument it serves config.asgi:application. Daphne's frame cap is raised to MESSAGE_CAP because it
also caps what the server sends (a `joined` with 500 long messages is far over
64 KiB); the contract's 64 KiB rule for what clients send is the consumer's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys


def choose_event_loop(setting: str | None) -> None:
    """Install the event loop policy CHAT_EVENT_LOOP names.

    uvloop (libuv's loop, MagicStack's package) unless the setting says
    `asyncio` or uvloop cannot be imported (it has no Windows build). Twisted's
    asyncio reactor, asyncpg and redis-py's async clients all run on it
    unchanged, and its loop turns cost less than asyncio's pure-Python ones:
    6-12 % of the server's CPU per delivery in the bench's S1 and S4.
    Daphne makes its loop when daphne.server is first imported, so this must
    run before that import.
    """
    if setting not in (None, "", "uvloop", "asyncio"):
        raise SystemExit(f"CHAT_EVENT_LOOP must be uvloop or asyncio, not {setting!r}")
    if setting == "asyncio":
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":  # not when a test imports this module: the policy is process-wide
    choose_event_loop(os.environ.get("CHAT_EVENT_LOOP"))

from daphne.cli import CommandLineInterface  # noqa: E402

from chat.transport import ChatServer  # noqa: E402

APPLICATION = "config.asgi:application"

# Daphne's --websocket-max-message-size: over any frame the server may send.
MESSAGE_CAP = 16 * 1024 * 1024
# Daphne's --websocket-max-frame-size: one frame of a client's message (browsers
# never fragment); above it autobahn closes with 1009 before reading it all.
FRAME_CAP = 1024 * 1024


READY_LINE = "Chat is running at {url}"


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class AnnouncedChatServer(ChatServer):
    """Says where to open the app once Daphne listens, not before: a person (or
    a script) reading the line can connect at once."""

    announced = False

    def listen_success(self, port):
        super().listen_success(port)
        if self.listening_addresses and not self.announced:
            from django.conf import settings

            self.announced = True
            line = READY_LINE.format(url=http_url(*self.listening_addresses[0]))
            if settings.LOG_FORMAT == "json":  # every line of the output is a JSON object
                logging.getLogger("chat.serve").info(line)
            else:
                print(line, flush=True)


class ChatCommandLine(CommandLineInterface):
    server_class = AnnouncedChatServer


_APPLICATION_ARGUMENT = re.compile(r"^[\w.]+:[\w.]+$")


def arguments(argv: list[str]) -> list[str]:
    """Daphne's arguments with our defaults where the caller gave none."""
    args = list(argv)
    if not any(arg.startswith("--websocket-max-message-size") for arg in args):
        args += ["--websocket-max-message-size", str(MESSAGE_CAP)]
    if not any(arg.startswith("--websocket-max-frame-size") for arg in args):
        args += ["--websocket-max-frame-size", str(FRAME_CAP)]
    if not any(_APPLICATION_ARGUMENT.match(arg) for arg in args):
        args.append(APPLICATION)
    return args


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    ChatCommandLine().run(arguments(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
