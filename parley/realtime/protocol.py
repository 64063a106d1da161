"""The Socket.IO server, closed to every event docs/reference.md does not name.

python-socketio dispatches any event name a client sends to the matching handler, including
the reserved `connect` and `disconnect`, and lets a packet it cannot decode escape as a logged
traceback. Here only the documented client events reach the chat handlers, and a malformed
packet gets an error ack where it carries an ack id, or a one-line warning."""

from __future__ import annotations

import logging
import re
from typing import Any

import socketio
from socketio import packet

from parley.errors import ErrorCode, Problem

log = logging.getLogger(__name__)

CLIENT_EVENTS = frozenset({"join", "leave", "message", "typing"})
# An EVENT (or BINARY_EVENT, `5<attachments>-`) packet, optionally with a namespace, then its
# ack id: `2/ns,12[...`, `212[...` or `51-12[...`.
_EVENT_ACK_ID = re.compile(r"^(?:2|5\d+-)(?:(/[^,\[]*),)?(\d+)\[")


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name not in CLIENT_EVENTS:
            await self._refuse(
                eio_sid, namespace, id, Problem(ErrorCode.NOT_FOUND, "unknown event")
            )
            return
        await super()._handle_event(eio_sid, namespace, id, data)

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
