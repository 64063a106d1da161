"""Broadcasting from a process that holds no sockets (the stream Lambda, the HTTP Lambda): a
write-only Socket.IO manager publishing where the app instances listen (`PARLEY_BUS`): on the
channel of each event's room, user or session, or on the deployment's one channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import socketio
from redis.asyncio import Redis
from socketio.async_pubsub_manager import AsyncPubSubManager

from parley.models import Message
from parley.realtime.bus import Bus, bus_channel
from parley.realtime.channels import (
    room_channel,
    session_channel,
    socketio_channel,
    user_channel,
)


class _StrictRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """The stock manager logs and drops a failed publish; the stream pipeline must know, so
    the record is retried instead of lost."""

    async def _publish(self, data: Any) -> None:
        if not self.connected:
            self._redis_connect()
        await self.redis.publish(self.channel, self.json.dumps(data))


class _StrictShardedManager(AsyncPubSubManager):  # type: ignore[misc]
    """Publishes each event on the channel of its room (parley/realtime/bus.py); a failed
    publish raises."""

    def __init__(self, url: str, *, channel: str, cluster: bool) -> None:
        super().__init__(channel=channel, write_only=True)
        self.bus = Bus(url, cluster=cluster, write_only=True)

    async def _publish(self, data: Any) -> None:
        channel = bus_channel(self.channel, data.get("room"))
        if channel is not None:
            await self.bus.publish(channel, self.json.dumps(data))


class RedisEmitter:
    def __init__(
        self, redis_url: str, *, table_prefix: str, bus: str = "sharded", cluster: bool = False
    ) -> None:
        channel = socketio_channel(redis_url, table_prefix)
        self._manager: _StrictRedisManager | _StrictShardedManager
        if bus == "broadcast":
            self._manager = _StrictRedisManager(redis_url, channel=channel, write_only=True)
        else:
            self._manager = _StrictShardedManager(redis_url, channel=channel, cluster=cluster)

    async def message(self, message: Message) -> None:
        await self._manager.emit(
            "message", message.to_json(), room=room_channel(message.room), namespace="/"
        )

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        """conversations.Notifier: to every socket of the user, on every instance (none of
        them caused the event: this process holds no sockets)."""
        await self._manager.emit(event, dict(data), room=user_channel(username), namespace="/")

    async def to_room(self, room: str, event: str, data: Mapping[str, Any]) -> None:
        await self._manager.emit(event, dict(data), room=room_channel(room), namespace="/")

    async def message_updated(self, message: Message) -> None:
        await self._manager.emit(
            "message_updated", message.to_json(), room=room_channel(message.room), namespace="/"
        )

    async def end_session(self, ref: str) -> None:
        """The sockets of this session (its `Session.ref`), on whichever instance, hear that it
        ended; each instance's sweep drops them."""
        await self._manager.emit("session_expired", {}, room=session_channel(ref), namespace="/")

    async def close(self) -> None:
        if isinstance(self._manager, _StrictShardedManager):
            await self._manager.bus.close()
            return
        redis: Redis | None = self._manager.redis
        if redis is not None:
            await redis.aclose()
