"""The Socket.IO server: rooms shared by every instance through Redis, the chat namespace,
and the loops that keep live connections honest (session sweep, presence refresh)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

from parley.cancellation import stop_if_cancelled
from parley.config import Settings
from parley.messaging import Messenger
from parley.models import Message
from parley.realtime.channels import room_channel, socketio_channel, user_channel
from parley.realtime.engine import use_taskless_writer
from parley.realtime.manager import FanOutRedisManager, ShardedRedisManager
from parley.realtime.namespace import ChatNamespace
from parley.realtime.protocol import GuardedServer
from parley.storage.presence import REFRESH_INTERVAL_SECONDS

log = logging.getLogger(__name__)

# Sessions that end without a logout (TTL expiry, FLUSHDB) are noticed by this sweep, so their
# sockets get `session_expired` within its interval (docs/reference.md, "Socket.IO").
SESSION_SWEEP_SECONDS = 2.0
# Just above the largest valid event on the wire (a 4000-emoji message is ~48 KiB in the
# ASCII-escaped JSON of python-socketio's client, 16 KiB from a browser): an event over the
# 32 KiB check but within this still gets a `too_large` ack, while a bigger packet closes the
# connection before it is decoded. The WebSocket frame limit (parley/cli.py, `ws_max_size`) is
# the same, so uvicorn refuses a bigger frame from its header, before reading it.
MAX_PACKET_BYTES = 64 * 1024
# Below the 30 s ECS gives a task between SIGTERM and SIGKILL (infra/template.yaml StopTimeout).
DRAIN_SECONDS = 10.0


class SocketServer:
    """Built without I/O with the ASGI app, which routes /socket.io/ to `server`; `serving()`
    answers the chat events and runs the upkeep loops while the app is up. As the broadcaster,
    a message reaches its room on every instance."""

    def __init__(self, settings: Settings) -> None:
        use_taskless_writer()
        redis_url = settings.require_redis_url()
        channel = socketio_channel(redis_url, settings.table_prefix)
        manager: FanOutRedisManager | ShardedRedisManager
        if settings.bus == "broadcast":
            manager = FanOutRedisManager(redis_url, channel=channel)
        else:
            cluster = settings.redis_cluster
            manager = ShardedRedisManager(redis_url, channel=channel, cluster=cluster)
        self._manager = manager
        # cors_allowed_origins=[] leaves the Origin check to the handshake, which refuses a
        # foreign origin with the documented "forbidden origin" message (docs/reference.md).
        self.server = GuardedServer(
            async_mode="asgi",
            client_manager=manager,
            cors_allowed_origins=[],
            max_http_buffer_size=MAX_PACKET_BYTES,
            # Through the app's JSON log handler rather than handlers of their own.
            logger=logging.getLogger("parley.socketio"),
            engineio_logger=logging.getLogger("parley.engineio"),
        )

    async def message(self, message: Message) -> None:
        await self.server.emit("message", message.to_json(), room=room_channel(message.room))

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        """conversations.Notifier: to every socket of the user, on every instance."""
        await self.server.emit(event, dict(data), room=user_channel(username), skip_sid=skip_sid)

    async def to_room(self, room: str, event: str, data: Mapping[str, Any]) -> None:
        await self.server.emit(event, dict(data), room=room_channel(room))

    async def message_updated(self, message: Message) -> None:
        await self.server.emit(
            "message_updated", message.to_json(), room=room_channel(message.room)
        )

    @asynccontextmanager
    async def serving(self, namespace: ChatNamespace, messenger: Messenger) -> AsyncIterator[None]:
        self.server.register_namespace(namespace)
        self._manager.membership_watch = namespace.apply_membership
        metrics = namespace.services.metrics
        self._manager.metrics = metrics
        metrics.bus_channels.set_function(self._manager.channel_count)
        tasks = [
            asyncio.create_task(_every(SESSION_SWEEP_SECONDS, namespace.sweep_sessions)),
            asyncio.create_task(_every(REFRESH_INTERVAL_SECONDS, namespace.refresh_presence)),
        ]
        try:
            yield
        finally:
            await self._stop(namespace, messenger, tasks)

    async def _stop(
        self, namespace: ChatNamespace, messenger: Messenger, tasks: list[asyncio.Task[None]]
    ) -> None:
        """Graceful: sends under way finish (stored and recorded, so a client that lost its
        ack gets the stored message back on retry), then every socket is closed so its client
        reconnects to another instance."""
        if not await messenger.drain(DRAIN_SECONDS):
            log.warning("shutdown: sends still under way after %.0f s", DRAIN_SECONDS)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        await namespace.presence_announcer.close()
        await self.server.shutdown()
        await self._manager.flush(DRAIN_SECONDS)
        await self._manager.close()


async def _every(seconds: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        stop_if_cancelled()
        try:
            await job()
        except Exception as exc:  # Redis away: try again next round
            log.warning("%s failed: %s", getattr(job, "__name__", "job"), exc)
