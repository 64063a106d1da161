"""The Socket.IO server, closed to every event docs/reference.md does not name.

python-socketio dispatches any event name a client sends to the matching handler, including
the reserved `connect` and `disconnect`, and lets a packet it cannot decode escape as a logged
traceback. Here only the documented client events reach the chat handlers, and a malformed
packet gets an error ack where it carries an ack id, or a one-line warning.

It also bounds what one connection can make this process hold: each client event is checked
against the socket's and user's budgets before a task is made for it (`ChatNamespace.admit`),
an Engine.IO connection that has not completed the Socket.IO CONNECT within
CONNECT_DEADLINE_SECONDS is closed (as is one whose CONNECT was refused), and a socket with
more than fanout.MAX_BUFFERED_BYTES waiting to go out is disconnected (parley/realtime/fanout.py,
which also delivers broadcasts)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import socketio
from socketio import packet

from parley.errors import ErrorCode, Problem
from parley.realtime import fanout
from parley.realtime.engine import SlimEngineIOServer
from parley.realtime.fanout import Fanout, queued_bytes, use_direct_writes

log = logging.getLogger(__name__)

CLIENT_EVENTS = frozenset({"join", "leave", "message", "typing", "read", "edit", "delete", "react"})
# An EVENT (or BINARY_EVENT, `5<attachments>-`) packet, optionally with a namespace, then its
# ack id: `2/ns,12[...`, `212[...` or `51-12[...`.
_EVENT_ACK_ID = re.compile(r"^(?:2|5\d+-)(?:(/[^,\[]*),)?(\d+)\[")
# An Engine.IO connection must be a connected Socket.IO socket this soon after it opened (a
# client sends CONNECT at once), or it is closed.
CONNECT_DEADLINE_SECONDS = 5.0


def waiting_bytes(socket: Any) -> int:
    """Broadcast bytes in the socket's queue and everything in its transport's buffer."""
    direct = getattr(socket, "parley_direct", None)
    buffered = direct.transport.get_write_buffer_size() if direct is not None else 0
    return queued_bytes(socket) + int(buffered)


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_direct_writes()
        self.fanout = Fanout(self.eio.sockets, self._drop_slow_reader)

    def _engineio_server_class(self) -> type[SlimEngineIOServer]:
        return SlimEngineIOServer

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name not in CLIENT_EVENTS:
            await self._refuse(
                eio_sid, namespace, id, Problem(ErrorCode.NOT_FOUND, "unknown event")
            )
            return
        handler = self.namespace_handlers.get(namespace or "/")
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        admit = getattr(handler, "admit", None)
        if sid is not None and admit is not None:
            problem = admit(sid, name)
            if problem is not None:
                await self._refuse(eio_sid, namespace, id, problem)
                return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        asyncio.get_running_loop().call_later(
            CONNECT_DEADLINE_SECONDS, self._close_if_not_connected, eio_sid
        )

    def _close_if_not_connected(self, eio_sid: str) -> None:
        if eio_sid in self.eio.sockets and self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            log.info("connection closed: no Socket.IO CONNECT within the deadline")
            self.start_background_task(self._close_engineio, eio_sid)

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        await super()._handle_connect(eio_sid, namespace, data)
        if self.manager.sid_from_eio_sid(eio_sid, namespace or "/") is None:
            # Refused: its CONNECT_ERROR is queued before the close, so it still goes out.
            await self._close_engineio(eio_sid)

    async def _close_engineio(self, eio_sid: str) -> None:
        """Engine.IO's CLOSE packet, then the WebSocket itself: the writer's close sentinel
        ends it, whether or not the client answers the CLOSE."""
        socket = self.eio.sockets.get(eio_sid)
        await self.eio.disconnect(eio_sid)
        if socket is not None:
            socket.queue.put_nowait(None)

    async def _send_eio_packet(self, eio_sid: str, eio_pkt: Any) -> None:
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None and waiting_bytes(socket) > fanout.MAX_BUFFERED_BYTES:
            self.eio.sockets.pop(eio_sid, None)
            await self._drop_slow_reader(eio_sid, socket)
            return
        await super()._send_eio_packet(eio_sid, eio_pkt)

    async def _drop_slow_reader(self, eio_sid: str, socket: Any) -> None:
        """Disconnect a socket that stopped reading and free what was waiting for it; its
        writer stops after the batch it is writing."""
        log.warning(
            "socket disconnected: over %d bytes waiting, it is not reading",
            fanout.MAX_BUFFERED_BYTES,
        )
        queue = socket.queue
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
        socket.parley_queued_bytes = 0
        queue.put_nowait(None)  # the writer's close sentinel
        direct = getattr(socket, "parley_direct", None)
        if direct is not None:
            direct.transport.abort()  # what its transport holds goes now
        await socket.close(wait=False, abort=True)
        self.eio.sockets.pop(eio_sid, None)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except Exception as exc:
            # A broken binary header would make every later frame an "attachment".
            self._binary_packet.pop(eio_sid, None)
            log.warning("malformed Socket.IO packet refused: %s", type(exc).__name__)
            match = _EVENT_ACK_ID.match(data) if isinstance(data, str) else None
            if match is not None:
                problem = Problem(ErrorCode.INVALID, "payload is not plain JSON")
                await self._refuse(eio_sid, match[1], int(match[2]), problem)

    async def _refuse(self, eio_sid: str, namespace: str | None, id: Any, problem: Problem) -> None:
        if id is None:
            return
        namespace = namespace or "/"
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is None:
            return
        ack = self.packet_class(packet.ACK, namespace=namespace, id=id, data=[problem.ack()])
        await self._send_packet(eio_sid, ack)
