"""Four fixes to Daphne's WebSocket transport (autobahn underneath): the
contract's 64 KiB rule holds whatever `--websocket-max-message-size` is given,
and a socket that is closing does not turn a fan-out into a traceback.

- autobahn applies that cap to what the server *sends* too, so under a 64 KiB
  cap a `joined` with 500 messages fails. The cap is meant for clients:
  outbound frames are sent uncapped.
- Over the cap autobahn drops the TCP connection by default (`failByDrop`);
  the contract wants a close frame with 1009. Failing sockets are closed with
  a close handshake instead.
- A frame for a socket that is already closing is dropped quietly, instead
  of autobahn raising Disconnected into the hub's fan-out.
- Daphne hands an application's close code to autobahn's `sendClose`, which
  accepts only 1000 and 3000-4999 from applications (and turns 1009 into a
  1011 and a traceback). The consumer closes with 1009 when the cap is set
  higher than 64 KiB, so that code is sent the way `sendClose` itself would.

Applied once, at import (config.asgi imports this module), and only when
serving under Daphne; under the test communicator there is no transport.
"""

import sys

MESSAGE_TOO_BIG = 1009


def patch_daphne() -> None:
    protocol_module = sys.modules.get("daphne.ws_protocol")
    if protocol_module is None:
        return
    protocol = protocol_module.WebSocketProtocol
    if getattr(protocol, "chat_transport_patched", False):
        return
    on_connect, server_send, server_close = protocol.onConnect, protocol.serverSend, protocol.serverClose

    def onConnect(self, request):
        # Per connection: autobahn copies the factory's options onto each protocol.
        self.failByDrop = False
        return on_connect(self, request)

    def serverSend(self, content, binary=False):
        if self.state in (self.STATE_CLOSING, self.STATE_CLOSED):
            # The socket is going: a frame the hub fans out in that moment can
            # only fail (autobahn raises Disconnected); the client catches up by
            # `since` when it reconnects.
            return None
        limit = self.maxMessagePayloadSize
        self.maxMessagePayloadSize = 0  # 0: no limit; sendMessage runs synchronously
        try:
            return server_send(self, content, binary)
        finally:
            self.maxMessagePayloadSize = limit

    def serverClose(self, code=None):
        if code == MESSAGE_TOO_BIG:
            self.sendCloseFrame(code=code, reasonUtf8=b"message too big", isReply=False)
        else:
            server_close(self, code)

    protocol.onConnect, protocol.serverSend, protocol.serverClose = onConnect, serverSend, serverClose
    protocol.chat_transport_patched = True
