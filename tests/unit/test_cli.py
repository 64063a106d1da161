"""The `parley` command run in this process: its sub-commands and its one-line errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Iterator

import pytest

from parley.cli import main
from parley.config import Settings
from parley.devstack.services import free_port
from parley.ids import is_ulid
from parley.storage.dynamo import TableNames, open_client


@pytest.fixture(autouse=True)
def environment(
    monkeypatch: pytest.MonkeyPatch, unit_settings: Settings, root_logger: logging.Logger
) -> str:
    """The unit layer's Redis and DynamoDB, tables of the test's own; nothing else set."""
    for name in list(os.environ):
        if name.startswith("PARLEY_"):
            monkeypatch.delenv(name)
    prefix = f"parley-cli-{secrets.token_hex(3)}-"
    monkeypatch.setenv("PARLEY_REDIS_URL", unit_settings.require_redis_url())
    monkeypatch.setenv("PARLEY_DYNAMODB_ENDPOINT", unit_settings.dynamodb_endpoint or "")
    monkeypatch.setenv("PARLEY_TABLE_PREFIX", prefix)
    return prefix


@pytest.fixture
def table_prefix(environment: str, unit_settings: Settings) -> Iterator[str]:
    """The prefix of tables a test creates; deleted afterwards."""
    yield environment
    asyncio.run(_delete_tables(unit_settings, TableNames.with_prefix(environment)))


async def _delete_tables(settings: Settings, names: TableNames) -> None:
    async with open_client(settings) as client:
        for name in names.all():
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                await client.delete_table(TableName=name)


def test_tables_create_is_idempotent(table_prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = table_prefix
    assert main(["tables", "create"]) == 0
    created = capsys.readouterr().out.strip()
    assert created == f"created: {prefix}users, {prefix}rooms, {prefix}messages, {prefix}members"
    assert main(["tables", "create"]) == 0
    assert capsys.readouterr().out.strip() == "all tables exist"


def test_ingest_writes_one_message(table_prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["tables", "create"])
    capsys.readouterr()
    assert main(["ingest", "--room", "general", "--user", "cli", "hello from outside"]) == 0
    words = capsys.readouterr().out.split()
    assert words[0] == "stored"
    assert is_ulid(words[1])
    assert words[-2:] == ["(room", "general)"]


def test_a_bad_setting_ends_the_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARLEY_PORT", "not-a-port")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("parley: PARLEY_PORT: Input should be a valid integer")
    assert error.count("\n") == 1


def test_serve_needs_redis(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PARLEY_REDIS_URL")
    assert main(["serve", "--port", str(free_port())]) == 2
    assert capsys.readouterr().err.startswith("parley: PARLEY_REDIS_URL is not set: ")


@pytest.mark.parametrize("command", ["serve", "dev"])
def test_a_port_in_use_is_refused(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main([command, "--port", str(port)]) == 2
    assert capsys.readouterr().err == (
        f"parley: port {port} on 127.0.0.1 is already in use: "
        "choose another with --port or PARLEY_PORT\n"
    )


def test_a_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "usage: parley" in capsys.readouterr().err
