"""The WebSocket close codes the server sends (docs/protocol.md)."""

MESSAGE_TOO_BIG = 1009  # a frame over 64 KiB
SERVICE_RESTART = 1012  # the process is stopping: reconnect at once
TRY_AGAIN_LATER = 1013  # too slow to read, or the database did not answer: reconnect and catch up
UNAUTHENTICATED = 4401  # no session, or it was logged out
TOO_MANY_SOCKETS = 4429  # the user's sockets on all processes are at CHAT_MAX_SOCKETS_PER_USER
