"""The Socket.IO client manager: rooms shared by every instance through Redis pub/sub.

python-socketio delivers an event to a room by creating one asyncio task per recipient and
waiting for all of them, and each recipient's writer task then encodes and frames the packet
again. Here a broadcast is encoded once and handed to the Fanout (parley/realtime/fanout.py),
which frames it once and writes the same bytes to every idle recipient's transport. Events
with callbacks or binary data keep the library's own path.

Publishing to the other instances does not hold up the sender either: messages go into an
outbox that one task publishes in order, so a room's broadcasts still reach other instances in
the order they were made, and neither the room's next broadcast nor the sender's ack waits for a
Redis round trip (measured: sustained fan-out rate 50 -> 80 msg/s, bench/README.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from socketio import packet

log = logging.getLogger(__name__)

# Events that change who hears a room (docs/design/conversations.md, "Live membership").
MEMBERSHIP_EVENTS = frozenset({"room_removed", "member"})
# Called with the Socket.IO room an event goes to, its name and its payload.
MembershipWatch = Callable[[str, str, dict[str, Any]], Awaitable[None]]


class FanOutRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 2})
        # Applies a membership change to this instance's sockets before the event (and anything
        # published after it) is delivered here, whichever instance published it.
        self.membership_watch: MembershipWatch | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._publisher: asyncio.Task[None] | None = None

    async def _publish(self, data: dict[str, Any]) -> None:
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._publisher = asyncio.create_task(self._publish_in_order(self._outbox))
        self._outbox.put_nowait(data)

    async def _publish_in_order(self, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            data = await outbox.get()
            try:
                await super()._publish(data)  # logs and drops what Redis refuses twice
            finally:
                outbox.task_done()

    async def flush(self, seconds: float) -> None:
        """Publish what is queued (graceful shutdown), then stop the publisher."""
        if self._outbox is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), seconds)
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if self.membership_watch is not None and message.get("event") in MEMBERSHIP_EVENTS:
            data = message.get("data") or [None]
            if isinstance(message.get("room"), str) and isinstance(data[0], dict):
                try:
                    await self.membership_watch(message["room"], message["event"], data[0])
                except Exception:  # the event itself still goes out
                    log.exception("membership change not applied to the local sockets")
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
        if isinstance(encoded, list):  # binary attachments: the library's own path
            await super()._handle_emit(message)
            return
        self.server.fanout.deliver(
            (
                eio_sid
                for sid, eio_sid in self.get_participants(namespace, message.get("room"))
                if sid not in skipped
            ),
            encoded,
        )
