"""Broadcasting from a process that holds no sockets (the stream Lambda): python-socketio's
write-only Redis manager, publishing to the channel the app instances listen on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import socketio
from redis.asyncio import Redis

from parley.models import Message
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


class RedisEmitter:
    def __init__(self, redis_url: str, *, table_prefix: str) -> None:
        self._manager = _StrictRedisManager(
            redis_url, channel=socketio_channel(redis_url, table_prefix), write_only=True
        )

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
        redis: Redis | None = self._manager.redis
        if redis is not None:
            await redis.aclose()
