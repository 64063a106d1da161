"""Servers of the fuzz suite's own: Redis databases 14 (HTTP) and 15 (Socket.IO), and DynamoDB
tables under a prefix of their own, so thousands of generated requests (rooms, users, failed
logins, messages) never reach the state that the other suites assert on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import StartApp, separate_tables
from tests.servers import AppServer

HTTP_FUZZ_REDIS_DB = 14
SOCKET_FUZZ_REDIS_DB = 15


@dataclass
class FuzzStats:
    examples: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


# Per test (node id): the examples run and how they were answered; shown in the summary.
FUZZ_STATS: dict[str, FuzzStats] = {}


def record_example(nodeid: str) -> FuzzStats:
    stats = FUZZ_STATS.setdefault(nodeid, FuzzStats())
    stats.examples += 1
    return stats


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FUZZ_STATS:
        return
    terminalreporter.section("fuzz examples run")
    for nodeid, stats in FUZZ_STATS.items():
        terminalreporter.write_line(f"{stats.examples:6d}  {nodeid}")
        if stats.outcomes:
            outcomes = ", ".join(f"{k!r}: {v}" for k, v in sorted(stats.outcomes.items()))
            terminalreporter.write_line(f"        answers: {outcomes}")
    total = sum(stats.examples for stats in FUZZ_STATS.values())
    terminalreporter.write_line(f"{total:6d}  in all")


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
