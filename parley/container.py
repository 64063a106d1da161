"""The composition root (Synapse's `HomeServer`): the one place that builds the connections,
the stores, the messenger, the broadcaster and the session hook, for `parley serve` and both
Lambdas alike. Entry points ask it for what they need and wire nothing themselves."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster

from parley.accounts import Accounts
from parley.config import Settings
from parley.conversations import Conversations, Notifier
from parley.editing import Editor
from parley.ingest.consumer import StreamConsumer
from parley.ingest.runner import running_in_background
from parley.mentions import Mentions
from parley.messaging import Broadcaster, Messenger
from parley.metrics import Metrics
from parley.passwords import PasswordHasher, PasswordPolicy
from parley.realtime.emitter import RedisEmitter
from parley.realtime.namespace import ChatNamespace
from parley.realtime.server import SocketServer
from parley.services import Services
from parley.storage.dynamo import StorageUnavailable, TableNames, open_client, open_direct
from parley.storage.members import MemberStore
from parley.storage.messages import MessageStore
from parley.storage.presence import PresenceStore
from parley.storage.redis_keys import RedisClient
from parley.storage.rooms import RoomQuota, RoomStore
from parley.storage.sends import DeliveryMarks, SendLedger
from parley.storage.sessions import SessionStore
from parley.storage.stream_state import StreamCheckpoints, StreamLease
from parley.storage.throttle import LoginLimits, LoginThrottle, RegistrationThrottle
from parley.storage.users import UserStore

log = logging.getLogger(__name__)

# A burst (500 sockets leaving at once) waits for a connection instead of failing with "Too
# many connections", as redis-py's default pool does past its limit (bench/README.md).
REDIS_MAX_CONNECTIONS = 256
REDIS_POOL_WAIT_SECONDS = 5
# redis-py's cluster client keeps a pool per node and refuses a command past its size instead of
# waiting (MaxConnectionsError, answered as "unavailable"); a node sees only its share of the
# keys, so the same per-node bound as one node's pool, with room for a burst on one hot slot.
REDIS_CLUSTER_MAX_CONNECTIONS_PER_NODE = 2 * REDIS_MAX_CONNECTIONS

# The session hook: tells a session's open sockets, on whichever instance, that it ended.
# It takes the session's ref (`Session.ref`, `SessionInfo.ref`), not its secret, so a session
# can be ended by one that never held its cookie (the list of sessions, a password change).
EndSession = Callable[[str], Awaitable[None]]


def open_redis(url: str, *, cluster: bool = False) -> RedisClient:
    """The one Redis client of a process, for everything but Socket.IO's pub/sub (whose
    subscriber connections, one per shard, parley/realtime/bus.py keeps itself)."""
    # Short timeouts: with Redis gone a request should fail in about a second with a 503,
    # and the client reconnects on its own once Redis is back. `rediss://` means TLS, and a
    # password in the URL (`rediss://:<token>@host:port`) is the AUTH token.
    if cluster:
        # Follows MOVED and ASK redirections, and reloads the slot map when a node fails
        # over; a script or multi-key command must keep its keys in one hash slot
        # (parley/storage/redis_keys.py).
        return RedisCluster.from_url(
            url,
            max_connections=REDIS_CLUSTER_MAX_CONNECTIONS_PER_NODE,
            decode_responses=True,
            socket_timeout=2,
            socket_connect_timeout=2,
            health_check_interval=15,
        )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=REDIS_POOL_WAIT_SECONDS,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=15,
    )
    return Redis.from_pool(pool)


@dataclass(frozen=True)
class Running:
    """What `Container.open()` built, alive for as long as its context is open."""

    services: Services
    messenger: Messenger
    broadcaster: Broadcaster
    end_session: EndSession
    conversations: Conversations


@dataclass(frozen=True)
class Delivery:
    """What the stream Lambda needs, and nothing that would slow its start (no DynamoDB
    client until a text names someone): the "delivered once" marks, a broadcaster whose
    failed publish raises, so the record is retried instead of lost, and the mentions."""

    marks: DeliveryMarks
    broadcaster: RedisEmitter
    mentions: Mentions


class MembersOnDemand:
    """The member store of a Lambda invocation, its DynamoDB client opened at the first
    lookup: most messages name nobody, and Mentions asks nothing of a text that does not."""

    def __init__(self, settings: Settings, stack: AsyncExitStack) -> None:
        self._settings = settings
        self._stack = stack
        self._store: MemberStore | None = None

    async def among(self, room_id: str, usernames: Iterable[str]) -> set[str]:
        if self._store is None:
            dynamo = await self._stack.enter_async_context(open_client(self._settings))
            tables = TableNames.with_prefix(self._settings.table_prefix)
            self._store = MemberStore(dynamo, tables.members, rooms_table=tables.rooms)
        return await self._store.among(room_id, usernames)


class Container:
    """Built from the settings without I/O, before the event loop runs. `sockets` is the
    Socket.IO server when this process holds the sockets (`parley serve`); without it (the
    Lambdas) broadcasts and session ends reach the app instances through the Redis channel
    they listen on. Each `open…()` context connects on entry and closes what it opened on exit:
    the app's lifespan, or one Lambda invocation."""

    def __init__(self, settings: Settings, *, sockets: SocketServer | None = None) -> None:
        self.settings = settings
        self._sockets = sockets

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Running]:
        """Everything the HTTP app and the chat namespace use."""
        async with self._open_services() as services:
            if self._sockets is None:
                reach = self._reach_through_redis(services)
            else:
                # Registration makes each new account a member of general in one
                # transaction, so general must exist: every instance makes sure at its start
                # (as `parley tables create` and `parley migrate` do), not each Lambda
                # invocation, which would add a write to every HTTP request there.
                await _ensure_general(services)
                reach = self._serve(self._sockets, services)
            async with reach as running:
                yield running

    @asynccontextmanager
    async def open_delivery(self) -> AsyncIterator[Delivery]:
        async with AsyncExitStack() as stack:
            redis = self._redis(stack)
            emitter = await stack.enter_async_context(self._open_emitter())
            mentions = Mentions(MembersOnDemand(self.settings, stack), emitter)
            yield Delivery(marks=DeliveryMarks(redis), broadcaster=emitter, mentions=mentions)

    def _redis(self, stack: AsyncExitStack) -> RedisClient:
        redis = open_redis(self.settings.require_redis_url(), cluster=self.settings.redis_cluster)
        stack.push_async_callback(redis.aclose)
        return redis

    @asynccontextmanager
    async def _open_services(self) -> AsyncIterator[Services]:
        settings = self.settings
        async with AsyncExitStack() as stack:
            redis = self._redis(stack)
            dynamo = await stack.enter_async_context(open_client(settings))
            direct = await stack.enter_async_context(open_direct(settings, dynamo))
            tables = TableNames.with_prefix(settings.table_prefix)
            sessions = SessionStore(
                redis,
                ttl_seconds=settings.session_ttl,
                max_age_seconds=settings.session_max_age,
            )
            throttle = LoginThrottle(
                redis,
                LoginLimits(
                    free_failures=settings.login_free_failures,
                    first_delay_seconds=settings.login_delay_seconds,
                    per_address=settings.login_max_failures_per_address,
                    window_seconds=settings.login_lockout_seconds,
                    alert_addresses=settings.login_alert_addresses_per_account,
                ),
            )
            registrations = RegistrationThrottle(
                redis,
                per_address=settings.register_max_per_address,
                window_seconds=settings.register_window_seconds,
            )
            members = MemberStore(dynamo, tables.members, rooms_table=tables.rooms)
            yield Services(
                settings=settings,
                redis=redis,
                dynamo=dynamo,
                accounts=Accounts(
                    # Every new account is a member of general from its creation.
                    users=UserStore(dynamo, tables.users, members=members),
                    sessions=sessions,
                    throttle=throttle,
                    registrations=registrations,
                    hasher=PasswordHasher(settings.bcrypt_rounds),
                    policy=PasswordPolicy.shipped(),
                ),
                sessions=sessions,
                rooms=RoomStore(dynamo, tables.rooms),
                members=members,
                messages=MessageStore(dynamo, tables.messages, direct=direct),
                presence=PresenceStore(redis),
                ledger=SendLedger(
                    redis, rate_per_second=settings.message_rate, burst=settings.message_burst
                ),
                deliveries=DeliveryMarks(redis),
                metrics=Metrics(),
            )

    @asynccontextmanager
    async def _open_emitter(self) -> AsyncIterator[RedisEmitter]:
        settings = self.settings
        emitter = RedisEmitter(
            settings.require_redis_url(),
            table_prefix=settings.table_prefix,
            bus=settings.bus,
            cluster=settings.redis_cluster,
        )
        try:
            yield emitter
        finally:
            await emitter.close()

    @staticmethod
    def _messenger(services: Services, broadcaster: Broadcaster, mentions: Mentions) -> Messenger:
        return Messenger(
            messages=services.messages,
            ledger=services.ledger,
            broadcaster=broadcaster,
            mentions=mentions,
            metrics=services.metrics,
        )

    @staticmethod
    def _conversations(services: Services, notifier: Notifier) -> Conversations:
        return Conversations(
            rooms=services.rooms,
            members=services.members,
            messages=services.messages,
            users=services.accounts.users,
            presence=services.presence,
            quota=RoomQuota(services.redis),
            notifier=notifier,
        )

    @asynccontextmanager
    async def _reach_through_redis(self, services: Services) -> AsyncIterator[Running]:
        """No sockets here: broadcasts and session ends go out on the Socket.IO Redis channel."""
        async with self._open_emitter() as emitter:
            yield Running(
                services=services,
                messenger=self._messenger(services, emitter, Mentions(services.members, emitter)),
                broadcaster=emitter,
                end_session=emitter.end_session,
                conversations=self._conversations(services, emitter),
            )

    @asynccontextmanager
    async def _serve(self, sockets: SocketServer, services: Services) -> AsyncIterator[Running]:
        """This process holds the sockets: the chat namespace answers their events, and the
        stream consumer (unless another runner reads the stream) broadcasts outside writes."""
        mentions = Mentions(services.members, sockets)
        messenger = self._messenger(services, sockets, mentions)
        conversations = self._conversations(services, sockets)
        editor = Editor(
            messages=services.messages,
            deliveries=services.deliveries,
            broadcaster=sockets,
            mentions=mentions,
        )
        namespace = ChatNamespace(services, messenger, conversations, editor)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(sockets.serving(namespace, messenger))
            if self.settings.stream_consumer:
                consuming = self._consuming_stream(services, sockets, mentions)
                await stack.enter_async_context(consuming)
            yield Running(
                services=services,
                messenger=messenger,
                broadcaster=sockets,
                end_session=namespace.expire_session,
                conversations=conversations,
            )

    @asynccontextmanager
    async def _consuming_stream(
        self, services: Services, broadcaster: Broadcaster, mentions: Mentions
    ) -> AsyncIterator[StreamConsumer]:
        async with open_client(self.settings, "dynamodbstreams") as streams:
            table = services.tables.messages
            consumer = StreamConsumer(
                dynamo=services.dynamo,
                streams=streams,
                table=table,
                lease=StreamLease(services.redis, table=table, holder=secrets.token_hex(8)),
                checkpoints_for=lambda arn: StreamCheckpoints(services.redis, stream_arn=arn),
                deliveries=services.deliveries,
                broadcaster=broadcaster,
                mentions=mentions,
                metrics=services.metrics,
            )
            async with running_in_background(consumer):
                yield consumer


# An instance starting while DynamoDB is slow or restarting waits for it a little
# (1 + 2 + 4 + 8 s) before giving up, rather than exiting on the first timeout.
_START_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0)


async def _ensure_general(services: Services) -> None:
    for pause in _START_RETRY_SECONDS:
        try:
            await services.rooms.ensure_general()
            return
        except StorageUnavailable as exc:
            log.warning("start: DynamoDB did not answer (%s); again in %.0f s", exc, pause)
            await asyncio.sleep(pause)
    await services.rooms.ensure_general()
