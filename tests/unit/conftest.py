"""The in-process layer: the code under test runs in the test's own process and event loop,
against the session's one redis-server and one DynamoDB endpoint (tests/conftest.py starts
them on first use). No app process is started here: `pytest tests/unit` takes seconds."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from parley.config import Settings, load_settings
from parley.devstack.services import ChildService
from parley.metrics import Metrics
from parley.storage.dynamo import DynamoClient, TableNames, open_client
from parley.storage.migrate import migrate

# A Redis database no end-to-end suite uses (they hold 0 and 2-12, 14, 15), emptied before
# each test here.
UNIT_REDIS_DB = 13


@pytest.fixture(scope="session")
def unit_settings(redis_service: ChildService, dynamodb_endpoint: str | None) -> Settings:
    return load_settings(
        redis_url=f"redis://127.0.0.1:{redis_service.port}/{UNIT_REDIS_DB}",
        dynamodb_endpoint=dynamodb_endpoint or "",
        table_prefix=f"parley-unit-{secrets.token_hex(3)}-",
        bcrypt_rounds=4,
        cookie_secure=False,
        message_rate=1000,
        message_burst=1000,
        # A wait after the free failed logins that no test outlasts: nothing depends on timing.
        login_delay_seconds=600,
    )


@pytest.fixture(scope="session")
async def dynamo(unit_settings: Settings) -> AsyncIterator[DynamoClient]:
    async with open_client(unit_settings) as client:
        yield client


@pytest.fixture(scope="session")
async def tables(dynamo: DynamoClient, unit_settings: Settings) -> AsyncIterator[TableNames]:
    names = TableNames.with_prefix(unit_settings.table_prefix)
    await migrate(dynamo, names)  # what `parley tables create` leaves: general among them
    yield names
    for name in names.all():
        await dynamo.delete_table(TableName=name)


@pytest.fixture
async def redis(unit_settings: Settings) -> AsyncIterator[Redis]:
    """This layer's own Redis database, empty at the start of each test."""
    client = Redis.from_url(unit_settings.require_redis_url(), decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """For code that configures logging (parley.logs.configure_logging): put it back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("parley.socketio", "parley.engineio", "botocore", "aiobotocore"):
        logging.getLogger(name).setLevel(logging.NOTSET)
