"""Servers of the fuzz suite's own: Redis databases 14 (HTTP) and 15 (Socket.IO), and DynamoDB
tables under a prefix of their own, so thousands of generated requests (rooms, users, failed
logins, messages) never reach the state that the other suites assert on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import StartApp, separate_tables
from tests.servers import AppServer

HTTP_FUZZ_REDIS_DB = 14
SOCKET_FUZZ_REDIS_DB = 15


@pytest.fixture(scope="session")
async def fuzz_env(base_env: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    # The fuzzer fails hundreds of logins from 127.0.0.1; the per-address lockout would then
    # refuse every later login of the suite. The per-account-and-address waits stay as they are.
    async with separate_tables(
        base_env, "fuzz", PARLEY_LOGIN_MAX_FAILURES_PER_ADDRESS="1000000"
    ) as env:
        yield env


@pytest.fixture(scope="session")
def http_fuzz_app(start_server: StartApp, fuzz_env: dict[str, str]) -> AppServer:
    """The target of the HTTP fuzzer; it holds no sockets worth feeding from the stream."""
    return start_server(
        redis_db=HTTP_FUZZ_REDIS_DB, **{**fuzz_env, "PARLEY_STREAM_CONSUMER": "false"}
    )


@pytest.fixture(scope="session")
def socket_fuzz_app(start_server: StartApp, fuzz_env: dict[str, str]) -> AppServer:
    """The target of the Socket.IO fuzzer."""
    return start_server(redis_db=SOCKET_FUZZ_REDIS_DB, **fuzz_env)
