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


# --- parley migrate on data written before conversations ----------------------------------

OLD_TABLES = [
    ("users", [("username", "HASH")]),
    ("rooms", [("id", "HASH")]),
    ("messages", [("room", "HASH"), ("id", "RANGE")]),
]


async def _write_old_deployment(settings: Settings, prefix: str) -> None:
    """Tables and items exactly as the code before conversations made them: no members table,
    no directory index, rooms without `kind`, users in no room."""
    async with open_client(settings) as client:
        for name, keys in OLD_TABLES:
            await client.create_table(
                TableName=f"{prefix}{name}",
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            )
        for room_id, creator in [("general", "parley"), ("old-talk", "ada"), ("orphan", "ghost")]:
            item = {"id": {"S": room_id}, "name": {"S": room_id}, "createdBy": {"S": creator}}
            await client.put_item(TableName=f"{prefix}rooms", Item=item)
        for name in ("Ada", "bob"):
            item = {
                "username": {"S": name.lower()},
                "name": {"S": name},
                "passwordHash": {"S": "h"},
            }
            await client.put_item(TableName=f"{prefix}users", Item=item)


async def _migrated_state(settings: Settings, prefix: str) -> dict[str, object]:
    from parley.storage.members import MemberStore
    from parley.storage.rooms import RoomStore

    names = TableNames.with_prefix(prefix)
    async with open_client(settings) as client:
        rooms = RoomStore(client, names.rooms)
        members = MemberStore(client, names.members, rooms_table=names.rooms)
        records = await rooms.get_many(["general", "old-talk", "orphan"])
        directory = await rooms.directory(query="", limit=10, cursor=None)
        return {
            "kinds": {room_id: room.kind.value for room_id, room in records.items()},
            "counts": {room_id: (room.members, room.owners) for room_id, room in records.items()},
            "directory": [room.id for room in directory.rooms],
            "ada": sorted((m.room, str(m.role)) for m in await members.rooms_of("ada")),
            "bob": sorted((m.room, str(m.role)) for m in await members.rooms_of("bob")),
            "kindless": [room.id for room in await rooms.kindless()],
        }


def test_migrate_moves_an_old_deployment_and_a_second_run_changes_nothing(
    table_prefix: str, unit_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_write_old_deployment(unit_settings, table_prefix))
    assert main(["migrate"]) == 0
    # general is made public first (as every start does), then the other two rooms.
    assert capsys.readouterr().out.strip() == (
        f"tables created: {table_prefix}members; directory index added: True; "
        "rooms made public: 2; owners added: 1; users added to general: 2"
    )
    state = asyncio.run(_migrated_state(unit_settings, table_prefix))
    assert state == {
        "kinds": {"general": "public", "old-talk": "public", "orphan": "public"},
        "counts": {"general": (2, 0), "old-talk": (1, 1), "orphan": (0, 0)},
        "directory": ["general", "old-talk", "orphan"],
        "ada": [("general", "member"), ("old-talk", "owner")],
        "bob": [("general", "member")],
        "kindless": [],
    }
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == (
        "tables created: none; directory index added: False; "
        "rooms made public: 0; owners added: 0; users added to general: 0"
    )
    assert asyncio.run(_migrated_state(unit_settings, table_prefix)) == state


async def _write_old_user(settings: Settings, prefix: str, name: str) -> None:
    item = {"username": {"S": name.lower()}, "name": {"S": name}, "passwordHash": {"S": "h"}}
    async with open_client(settings) as client:
        await client.put_item(TableName=f"{prefix}users", Item=item)


def test_a_start_after_a_finished_migration_reads_no_users(
    table_prefix: str, unit_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every start (`parley dev`, `make run`: what `tables create` does) migrates once; later
    starts see the recorded version and read no user. An account the old code writes after
    that (here: straight into the table) shows which starts read the users table."""
    asyncio.run(_write_old_deployment(unit_settings, table_prefix))
    assert main(["tables", "create"]) == 0  # the first start: the whole migration
    assert capsys.readouterr().out.strip() == f"created: {table_prefix}members"
    assert asyncio.run(_migrated_state(unit_settings, table_prefix))["bob"] == [
        ("general", "member")
    ]
    asyncio.run(_write_old_user(unit_settings, table_prefix, "Carol"))
    assert main(["tables", "create"]) == 0  # a later start: one GetItem, no scan
    assert capsys.readouterr().out.strip() == "all tables exist"
    assert asyncio.run(_members_of_general(unit_settings, table_prefix)) == ["ada", "bob"]
    assert main(["migrate"]) == 0  # by hand: runs whatever is recorded
    assert capsys.readouterr().out.strip().endswith("users added to general: 1")
    assert asyncio.run(_members_of_general(unit_settings, table_prefix)) == ["ada", "bob", "carol"]


async def _members_of_general(settings: Settings, prefix: str) -> list[str]:
    from parley.storage.members import MemberStore

    names = TableNames.with_prefix(prefix)
    async with open_client(settings) as client:
        members = MemberStore(client, names.members, rooms_table=names.rooms)
        return sorted(m.username.lower() for m in await members.of_room("general"))
