"""Fixtures that start real services: one redis-server and one DynamoDB endpoint per test
session (moto's server, or the endpoint named by PARLEY_TEST_DYNAMODB_ENDPOINT: a URL such as
DynamoDB Local's, or "aws" for real AWS), and the app under uvicorn."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis, RedisCluster

from parley.config import Settings, load_settings
from parley.devstack.services import ChildService, http_url, start_dynamodb, start_redis
from parley.storage.dynamo import TableNames, open_client
from parley.storage.redis_keys import RedisClient
from tests import redis_cluster
from tests.realtime.client import ChatClient
from tests.servers import AppServer, start_app
from tests.utils import on_redis_db, register_and_login

# The fuzz summary: a plugin here, so an xdist controller (which collects nothing) loads it.
pytest_plugins = ["tests.fuzz.stats"]

# `make test` hands whole files to two workers in collection order: the longest go first, so
# neither worker is left running one of them at the end while the other has nothing to do.
LONGEST_FIRST = (
    "tests/infra/test_package.py",
    "tests/faults/test_soak.py",
    "tests/fuzz/test_socket_fuzz.py",
    "tests/realtime/test_flood.py",
    "tests/browser/test_chat_browser.py",
    "tests/test_cli.py",
    "tests/browser/test_conversations_browser.py",
    "tests/faults/test_late_write.py",
    "tests/aws/test_http_lambda.py",
    "tests/ingest/test_stream.py",
    "tests/faults/test_instance_killed.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: every file keeps its tests' order


StartApp = Callable[..., AppServer]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parley")


@pytest.fixture(scope="session")
def redis_service(workdir: Path) -> Iterator[ChildService]:
    service = start_redis(workdir / "redis")
    yield service
    service.stop()


@pytest.fixture(scope="session")
def redis_clusters(workdir: Path) -> Iterator[redis_cluster.ClusterPerDatabase]:
    """Cluster mode (`make test-cluster`): a local 3-primary Redis Cluster per test database."""
    databases = redis_cluster.databases = redis_cluster.ClusterPerDatabase(workdir / "clusters")
    yield databases
    databases.stop()
    redis_cluster.databases = None


@pytest.fixture(scope="session")
def dynamodb_endpoint(workdir: Path) -> Iterator[str | None]:
    """None means real AWS (through the usual credential chain)."""
    configured = os.environ.get("PARLEY_TEST_DYNAMODB_ENDPOINT")
    if configured:
        yield None if configured == "aws" else configured
        return
    service = start_dynamodb(workdir / "dynamodb")
    yield http_url(service)
    service.stop()


@pytest.fixture(scope="session")
def base_env(
    request: pytest.FixtureRequest, redis_service: ChildService, dynamodb_endpoint: str | None
) -> dict[str, str]:
    env = {
        "PARLEY_REDIS_URL": f"redis://127.0.0.1:{redis_service.port}/0",
        "PARLEY_TABLE_PREFIX": f"parley-test-{secrets.token_hex(3)}-",
        "PARLEY_BCRYPT_ROUNDS": "4",
        "PARLEY_COOKIE_SECURE": "false",
        # Tests send in bursts; the limiter has its own test with its own server.
        "PARLEY_MESSAGE_RATE": "1000",
        "PARLEY_MESSAGE_BURST": "1000",
        # The same for every socket event (the fuzz suites send hundreds a second on one
        # socket); tests/realtime/test_flood.py and tests/unit/realtime hold the real budgets.
        "PARLEY_SOCKET_BUDGET_SCALE": "1000",
        # Every suite registers and logs in its people from 127.0.0.1, up to 100 at once (a
        # login in flight counts against its address until its password proves right);
        # tests/api/test_auth.py has its own server for these limits.
        "PARLEY_REGISTER_MAX_PER_ADDRESS": "1000000",
        "PARLEY_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
        "PARLEY_DYNAMODB_ENDPOINT": dynamodb_endpoint or "",
    }
    if redis_cluster.cluster_mode():
        databases = request.getfixturevalue("redis_clusters")
        env |= {"PARLEY_REDIS_URL": databases.url(0), "PARLEY_REDIS_CLUSTER": "true"}
    if dynamodb_endpoint:
        env |= {"AWS_ACCESS_KEY_ID": "parley-test", "AWS_SECRET_ACCESS_KEY": "parley-test"}
    return env


def settings_for(env: dict[str, str]) -> Settings:
    keys = ("redis_url", "table_prefix", "bcrypt_rounds", "cookie_secure", "dynamodb_endpoint")
    values: dict[str, object] = {key: env[f"PARLEY_{key.upper()}"] for key in keys}
    values["redis_cluster"] = env.get("PARLEY_REDIS_CLUSTER") == "true"
    return load_settings(**values)


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> Settings:
    return settings_for(base_env)


@pytest.fixture(scope="session")
def tables(settings: Settings) -> Iterator[TableNames]:
    from parley.cli import _create_tables

    names = TableNames.with_prefix(settings.table_prefix)
    asyncio.run(_create_tables(settings))
    yield names
    if os.environ.get("PARLEY_TEST_DYNAMODB_ENDPOINT"):
        asyncio.run(_delete_tables(settings, names))


async def _delete_tables(settings: Settings, names: TableNames) -> None:
    async with open_client(settings) as client:
        for name in names.all():
            await client.delete_table(TableName=name)


@asynccontextmanager
async def separate_tables(
    base_env: dict[str, str], name: str, **extra: str
) -> AsyncIterator[dict[str, str]]:
    """The shared Redis and DynamoDB, with tables of a suite's own (no other suite's rooms or
    messages in them); deleted afterwards on a real endpoint."""
    from parley.cli import _create_tables

    env = {**base_env, "PARLEY_TABLE_PREFIX": f"parley-{name}-{secrets.token_hex(3)}-", **extra}
    settings = settings_for(env)
    await _create_tables(settings)
    try:
        yield env
    finally:
        if os.environ.get("PARLEY_TEST_DYNAMODB_ENDPOINT"):
            await _delete_tables(settings, TableNames.with_prefix(settings.table_prefix))


@pytest.fixture(scope="session")
def start_server(base_env: dict[str, str], tables: TableNames, workdir: Path) -> Iterator[StartApp]:
    """Start an extra app process; `redis_db` gives it a Redis database of its own (in
    cluster mode, a cluster of its own)."""
    started: list[AppServer] = []

    def start(redis_db: int = 0, **env: str) -> AppServer:
        merged = on_redis_db({**base_env, **env}, redis_db)
        server = start_app(merged, workdir / "logs")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def app(start_server: StartApp) -> AppServer:
    """The shared app process (Redis database 0)."""
    return start_server()


@pytest.fixture
async def http(app: AppServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        yield client


@pytest.fixture
async def redis(
    redis_service: ChildService, base_env: dict[str, str]
) -> AsyncIterator[RedisClient]:
    """A client of the shared app's Redis (database 0, or the cluster in cluster mode)."""
    client: RedisClient
    if redis_cluster.cluster_mode():
        client = RedisCluster.from_url(base_env["PARLEY_REDIS_URL"], decode_responses=True)
    else:
        client = Redis(port=redis_service.port, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def username() -> str:
    return f"user_{secrets.token_hex(4)}"


class Person:
    """A registered, logged-in user who can open sockets ("tabs") on any app instance."""

    def __init__(self, username: str, cookie: str) -> None:
        self.username = username
        self.cookie = cookie


Signup = Callable[..., Awaitable[Person]]
Connect = Callable[..., Awaitable[ChatClient]]


@pytest.fixture
def signup(app: AppServer) -> Signup:
    async def make(server: AppServer = app) -> Person:
        username = f"u_{secrets.token_hex(4)}"
        async with httpx.AsyncClient(base_url=server.url) as http:
            cookie = await register_and_login(http, username)
        return Person(username, cookie)

    return make


@pytest.fixture
async def connect(app: AppServer) -> AsyncIterator[Connect]:
    clients: list[ChatClient] = []

    async def make(person: Person, server: AppServer = app) -> ChatClient:
        client = ChatClient(server, person.cookie)
        clients.append(client)
        await client.connect()
        return client

    yield make
    for client in clients:
        await client.close()
