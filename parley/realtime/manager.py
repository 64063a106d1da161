"""The Socket.IO client manager: rooms shared by every instance through Redis pub/sub.

python-socketio delivers an event to a room by creating one asyncio task per recipient and
waiting for all of them, and each recipient's writer task then encodes and frames the packet
again. Here a broadcast is encoded once and handed to the Fanout (parley/realtime/fanout.py),
which frames it once and writes the same bytes to every idle recipient's transport. Events
with callbacks or binary data keep the library's own path.

Publishing to the other instances does not hold up the sender either: messages go into an
outbox that one task publishes in order, so a room's broadcasts still reach other instances in
the order they were made, and neither the room's next broadcast nor the sender's ack waits for a
Redis round trip (measured: sustained fan-out rate 50 -> 80 msg/s, bench/README.md).

Two ways to reach the other instances (`PARLEY_BUS`): `sharded` (the default) publishes each
broadcast on the channel of its room, user or session and subscribes to a channel only while a
local socket is in that room (parley/realtime/bus.py); `broadcast` is python-socketio's Redis
manager, one channel that every instance receives whole (kept to measure against)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from socketio import packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from parley.cancellation import stop_if_cancelled
from parley.metrics import Metrics
from parley.realtime.bus import Bus, bus_channel

log = logging.getLogger(__name__)

# Events that change who hears a room (docs/design/conversations.md, "Live membership").
MEMBERSHIP_EVENTS = frozenset({"room_removed", "member"})
# Called with the Socket.IO room an event goes to, its name and its payload.
MembershipWatch = Callable[[str, str, dict[str, Any]], Awaitable[None]]


class _FanOut:
    """What both managers share: the ordered outbox and the one-frame local delivery. Mixed
    into a python-socketio pub/sub manager, whose `_publish` the subclass provides as
    `_publish_now`."""

    server: Any
    rooms: dict[str, Any]

    def _setup_fanout(self) -> None:
        # Applies a membership change to this instance's sockets before the event (and anything
        # published after it) is delivered here, whichever instance published it.
        self.membership_watch: MembershipWatch | None = None
        self.metrics: Metrics | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None
        self._publisher: asyncio.Task[None] | None = None
        # The rooms of each socket, in the order it entered them (a dict as an ordered set).
        self._rooms_of: dict[tuple[str, str], dict[Any, None]] = {}

    # python-socketio finds a disconnecting socket's rooms by looking into every room of the
    # namespace: with a room per session and per user that is O(sockets) per disconnect, and
    # 10,000 sockets closing took 25 s of CPU (bench/socket_memory.py, py-spy). The index
    # makes it O(the socket's rooms).

    def basic_enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), {})[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.pop(room, None)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """BaseManager.basic_disconnect (python-socketio 5.x), the socket's rooms taken from
        the index instead of a scan of every room."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)  # the last one drops the index entry
        callbacks: dict[str, Any] = self.callbacks  # type: ignore[attr-defined]
        callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):  # type: ignore[attr-defined]
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    async def _publish_now(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _publish(self, data: dict[str, Any]) -> None:
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._publisher = asyncio.create_task(self._publish_in_order(self._outbox))
        self._outbox.put_nowait(data)

    async def _publish_in_order(self, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            data = await outbox.get()
            stop_if_cancelled()
            try:
                await self._publish_now(data)
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
            await super()._handle_emit(message)  # type: ignore[misc]
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
            await super()._handle_emit(message)  # type: ignore[misc]
            return
        self.server.fanout.deliver(
            (
                eio_sid
                for sid, eio_sid in self.get_participants(namespace, message.get("room"))  # type: ignore[attr-defined]
                if sid not in skipped
            ),
            encoded,
        )


class FanOutRedisManager(_FanOut, socketio.AsyncRedisManager):  # type: ignore[misc]
    """`PARLEY_BUS=broadcast`: python-socketio's one channel for the whole deployment."""

    def __init__(self, url: str, *, channel: str) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 2})
        self._setup_fanout()

    async def _publish_now(self, data: dict[str, Any]) -> None:
        # Logs and drops what Redis refuses twice.
        await socketio.AsyncRedisManager._publish(self, data)

    async def _listen(self) -> AsyncIterator[Any]:
        async for data in super()._listen():
            if self.metrics is not None:
                self.metrics.bus_messages_received.inc()
            yield data

    def channel_count(self) -> int:
        return 1

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


class ShardedRedisManager(_FanOut, AsyncPubSubManager):  # type: ignore[misc]
    """`PARLEY_BUS=sharded`: a channel per room, user and session (parley/realtime/bus.py).
    The count of a channel is the number of local sockets in its Socket.IO room, kept from
    the room index itself (`basic_enter_room`/`basic_leave_room`, through which every join,
    leave and disconnect goes); a join waits for its channel's subscription before returning,
    so before the join is acknowledged."""

    name = "parley-sharded"

    def __init__(self, url: str, *, channel: str, cluster: bool = False) -> None:
        super().__init__(channel=channel)
        self._setup_fanout()
        self.bus = Bus(url, cluster=cluster)

    def channel_of(self, room: object) -> str | None:
        return bus_channel(self.channel, room)

    # Publishing: to the channel of the room; an emit to a sid (a socket of this instance,
    # the only one that has it) or to everyone has no channel and stays here.

    async def _publish_now(self, data: dict[str, Any]) -> None:
        channel = self.channel_of(data.get("room")) if data.get("method") == "emit" else None
        if channel is None:
            return
        try:
            await self.bus.publish(channel, self.json.dumps(data))
        except Exception as exc:  # as python-socketio's manager: logged, the sender goes on
            log.error("broadcast not published to the other instances: %s", exc)

    # Receiving

    async def _listen(self) -> AsyncIterator[Any]:
        async for data in self.bus.received():
            if self.metrics is not None:
                self.metrics.bus_messages_received.inc()
            yield data

    def channel_count(self) -> int:
        return len(self.bus.channels)

    # Subscriptions follow the room index

    def basic_enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        channel = self.channel_of(room)
        before = channel is not None and sid in self.rooms.get(namespace, {}).get(room, ())
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if channel is not None and not before:
            self.bus.hold(channel)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        channel = self.channel_of(room)
        present = channel is not None and sid in self.rooms.get(namespace, {}).get(room, ())
        super().basic_leave_room(sid, namespace, room)
        if channel is not None and present:
            self.bus.release(channel)

    async def enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        channel = self.channel_of(room)
        if channel is None or sid not in self.rooms.get(namespace, {}).get(room, ()):
            return  # not a socket of this instance: python-socketio published the request
        try:
            await self.bus.ready(channel)
        except BaseException:
            self.basic_leave_room(sid, namespace, room)  # the join fails as a whole
            raise

    async def close(self) -> None:
        await self.bus.close()
