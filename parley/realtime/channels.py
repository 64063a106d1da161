"""Socket.IO room names. A chat room, a user (all their sockets, on whichever instance) and a
login session each map to one Socket.IO room."""

from __future__ import annotations

from redis.asyncio import Redis


def socketio_channel(redis_url: str, table_prefix: str) -> str:
    """The Redis pub/sub channel of one deployment. Pub/sub ignores Redis database numbers,
    so the database is part of the name: deployments (and test runs) sharing one Redis
    server never hear each other's broadcasts."""
    database = Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
    return f"{table_prefix}socketio:{database}"


def room_channel(room: str) -> str:
    return f"room:{room}"


def session_channel(session_ref: str) -> str:
    return f"session:{session_ref}"


def user_channel(username: str) -> str:
    """Every socket of one user, on every instance (`room_added`, `room_removed`, `read`,
    `mention`)."""
    return f"user:{username.lower()}"
