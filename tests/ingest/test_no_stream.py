"""A messages table without a stream (an endpoint without DynamoDB Streams, such as dynalite):
the app works, the consumer says so once in one line and then stays quiet, and it starts
reading if a stream is turned on later."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import pytest

from parley.cli import _create_tables
from parley.config import Settings
from parley.ingest import consumer as consumer_module
from parley.ingest.consumer import StreamConsumer
from parley.ingest.producer import put_message
from parley.mentions import Mentions
from parley.metrics import Metrics
from parley.models import Message
from parley.storage.dynamo import TableNames, open_client
from parley.storage.members import MemberStore
from parley.storage.sends import DeliveryMarks
from parley.storage.stream_state import StreamCheckpoints, StreamLease
from tests.conftest import StartApp, settings_for
from tests.ingest.test_stream import chat_client, dynamodb_client
from tests.utils import redis_of

NO_STREAM = "has no stream, so live delivery of items written outside the app is off"


def create_messages_table_without_stream(settings: Settings) -> str:
    table = f"{settings.table_prefix}messages"
    dynamodb_client(settings).create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "room", "KeyType": "HASH"},
            {"AttributeName": "id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "room", "AttributeType": "S"},
            {"AttributeName": "id", "AttributeType": "S"},
        ],
    )
    return table


@pytest.fixture
async def streamless_env(base_env: dict[str, str]) -> dict[str, str]:
    env = {**base_env, "PARLEY_TABLE_PREFIX": f"parley-nostream-{secrets.token_hex(3)}-"}
    settings = settings_for(env)
    await asyncio.to_thread(create_messages_table_without_stream, settings)
    await _create_tables(settings)  # the other tables, as `parley tables create` would
    return env


def consumer_lines(output: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [e for e in entries if e["logger"] == "parley.ingest.consumer"]


async def test_the_app_says_once_that_the_table_has_no_stream(
    start_server: StartApp, streamless_env: dict[str, str]
) -> None:
    server = start_server(**streamless_env)
    for _ in range(100):
        if consumer_lines(server.output()):
            break
        await asyncio.sleep(0.1)
    # Long enough for the former retries (0.5, 1, 2 s apart) to have logged again.
    await asyncio.sleep(4)
    client = await chat_client(server, "general")
    try:
        ack = await client.send("sent through the app", "general")
        assert ack["ok"] is True
        assert await client.next("message") == ack["message"]
    finally:
        await client.close()
    table = f"{streamless_env['PARLEY_TABLE_PREFIX']}messages"
    assert [(e["level"], e["message"]) for e in consumer_lines(server.output())] == [
        ("warning", f"stream consumer: table {table} {NO_STREAM}")
    ]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def message(self, message: Message) -> None:
        self.messages.append(message)

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        raise AssertionError(f"nobody is mentioned here, yet {username} was told {event}")


async def until(condition: Any, seconds: float = 20) -> None:
    for _ in range(int(seconds * 10)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_a_stream_turned_on_later_is_read(
    streamless_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consumer_module, "NO_STREAM_RECHECK_SECONDS", 0.2)
    caplog.set_level(logging.INFO, logger="parley.ingest.consumer")
    settings = settings_for(streamless_env)
    table = f"{settings.table_prefix}messages"
    names = TableNames.with_prefix(settings.table_prefix)
    members, rooms = names.members, names.rooms
    redis = redis_of(streamless_env)
    recorder = Recorder()

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "parley.ingest.consumer"]

    async with open_client(settings) as dynamo, open_client(settings, "dynamodbstreams") as streams:
        consumer = StreamConsumer(
            dynamo=dynamo,
            streams=streams,
            table=table,
            lease=StreamLease(redis, table=table, holder=secrets.token_hex(8)),
            checkpoints_for=lambda arn: StreamCheckpoints(redis, stream_arn=arn),
            deliveries=DeliveryMarks(redis),
            broadcaster=recorder,
            mentions=Mentions(MemberStore(dynamo, members, rooms_table=rooms), recorder),
            metrics=Metrics(),
        )
        task = asyncio.create_task(consumer.run())
        try:
            await asyncio.sleep(1.5)  # several looks at the table
            assert said() == [f"stream consumer: table {table} {NO_STREAM}"]
            described = await dynamo.update_table(
                TableName=table,
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            )
            arn = described["TableDescription"]["LatestStreamArn"]

            async def reading() -> bool:
                return bool(await redis.hexists(f"ingest:checkpoint:{arn}", "*started*"))

            await until(reading)
            stored = await asyncio.to_thread(
                put_message, settings, room="general", username="outsider", text="now live"
            )

            async def delivered() -> bool:
                return [m.to_json() for m in recorder.messages] == [stored]

            await until(delivered)
            assert f"stream consumer: lease taken, reading {table}" in said()
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await redis.aclose()
