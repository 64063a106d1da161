"""The process's connections and stores, opened once and handed to every entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis

from parley.accounts import Accounts
from parley.config import Settings
from parley.metrics import Metrics
from parley.passwords import PasswordHasher
from parley.storage.dynamo import DynamoClient, TableNames, open_client
from parley.storage.messages import MessageStore
from parley.storage.presence import PresenceStore
from parley.storage.rooms import RoomStore
from parley.storage.sends import DeliveryMarks, SendLedger
from parley.storage.sessions import SessionStore
from parley.storage.throttle import LoginThrottle
from parley.storage.users import UserStore

# A burst (500 sockets leaving at once) waits for a connection instead of failing with "Too
# many connections", as redis-py's default pool does past its limit (bench/README.md).
REDIS_MAX_CONNECTIONS = 256
REDIS_POOL_WAIT_SECONDS = 5


def open_redis(url: str) -> Redis:
    # Short timeouts: with Redis gone a request should fail in about a second with a 503,
    # and the client reconnects on its own once Redis is back.
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
class Services:
    settings: Settings
    redis: Redis
    dynamo: DynamoClient
    accounts: Accounts
    sessions: SessionStore
    rooms: RoomStore
    messages: MessageStore
    presence: PresenceStore
    ledger: SendLedger
    deliveries: DeliveryMarks
    metrics: Metrics

    @property
    def tables(self) -> TableNames:
        return TableNames.with_prefix(self.settings.table_prefix)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        redis = open_redis(settings.require_redis_url())
        stack.push_async_callback(redis.aclose)
        dynamo = await stack.enter_async_context(open_client(settings))
        tables = TableNames.with_prefix(settings.table_prefix)
        sessions = SessionStore(redis, ttl_seconds=settings.session_ttl)
        throttle = LoginThrottle(
            redis,
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
            window_seconds=settings.login_lockout_seconds,
        )
        yield Services(
            settings=settings,
            redis=redis,
            dynamo=dynamo,
            accounts=Accounts(
                users=UserStore(dynamo, tables.users),
                sessions=sessions,
                throttle=throttle,
                hasher=PasswordHasher(settings.bcrypt_rounds),
            ),
            sessions=sessions,
            rooms=RoomStore(dynamo, tables.rooms),
            messages=MessageStore(dynamo, tables.messages),
            presence=PresenceStore(redis),
            ledger=SendLedger(
                redis, rate_per_second=settings.message_rate, burst=settings.message_burst
            ),
            deliveries=DeliveryMarks(redis),
            metrics=Metrics(),
        )
