"""The Socket.IO client manager: rooms shared by every instance through Redis pub/sub.

python-socketio delivers an event to a room by creating one asyncio task per recipient and
waiting for all of them; under fan-out to hundreds of sockets, that task churn was the largest
item in the server's profile (bench/README.md). Handing a packet to a socket only appends it to
that socket's outgoing queue, so here the packet is encoded once and queued for each recipient
in a plain loop. Events with callbacks or binary data keep the library's own path."""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet


class FanOutRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("callback") is not None or message.get("binary"):
            await super()._handle_emit(message)
            return
        namespace = message.get("namespace") or "/"
        if namespace not in self.rooms:
            return
        skip = message.get("skip_sid")
        skipped = set(skip) if isinstance(skip, list) else {skip}
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[message["event"], *message["data"]]
        ).encode()
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        for sid, eio_sid in self.get_participants(namespace, message.get("room")):
            if sid not in skipped:
                for frame in frames:
                    await self.server._send_eio_packet(eio_sid, frame)
