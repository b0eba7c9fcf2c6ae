"""Bounded HTTP request bodies: our Daphne's request class and factory.

Twisted reads a request's whole body (into a temporary file past 100 kB)
before Daphne hands the request to Django, so no view can stop a 10 GB
upload: by then it was read to the end. This request class stops it at the
door. A body longer than the upload limit (receive.body_limit(): the largest
upload plus its multipart envelope; far over any other request's) is refused
with a JSON 413 as soon as its Content-Length says so, before a byte of it is
read, or as soon as a chunked one grows past it. Whatever the client sends
meanwhile is dropped unstored for a short while (a client that is still
sending would otherwise get a connection reset instead of our answer), then
the connection is closed.
"""

from __future__ import annotations

import json

from daphne.http_protocol import HTTPFactory, WebRequest
from twisted.internet import reactor

# After the 413: how long, and how much, to read and drop before closing.
LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * 1024 * 1024


def _answer(limit: int) -> bytes:
    body = json.dumps({"error": f"The request body is larger than {limit} bytes."}).encode()
    head = (
        "HTTP/1.1 413 Content Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedRequest(WebRequest):
    refused = False
    received = 0
    dropped = 0
    linger = None  # the close after the 413

    def gotLength(self, length):  # noqa: N802 - Twisted's interface
        from chat.uploads.receive import body_limit

        self.limit = body_limit()
        if length is not None and length > self.limit:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):  # noqa: N802
        if self.refused:
            self.dropped += len(data)
            if self.dropped > LINGER_BYTES:
                self._close()
            return
        self.received += len(data)
        if self.received > self.limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):  # noqa: N802
        if self.refused:
            self._close()  # the rest came while lingering: nothing to do with it
            return
        super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self.refused = True
        content = getattr(self, "content", None)
        if content is not None:
            content.close()  # a temporary file: closing removes it
            self.content = None
        # Twisted would otherwise send `100 Continue` after our answer.
        self.requestHeaders.removeHeader(b"expect")
        self.channel.transport.write(_answer(self.limit))
        self.linger = reactor.callLater(LINGER_SECONDS, self._close)

    def _close(self) -> None:
        transport = self.channel.transport if self.channel is not None else None
        if transport is not None:
            transport.loseConnection()

    def connectionLost(self, reason):  # noqa: N802
        if self.linger is not None and self.linger.active():
            self.linger.cancel()
        super().connectionLost(reason)


class BoundedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):  # noqa: N802
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedRequest
        return protocol
