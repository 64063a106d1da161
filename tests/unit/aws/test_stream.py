"""The stream Lambda's batch: each new message published once on its room's channel; the
first record that could not be delivered is reported, with all after it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from parley.aws.stream import handle_records
from parley.config import Settings
from parley.devstack.services import free_port
from parley.models import Message
from parley.realtime.bus import bus_channel
from parley.realtime.channels import socketio_channel
from parley.storage.messages import to_item
from tests.unit.support import make_message


def insert(message: Message, sequence: str) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": to_item(message), "SequenceNumber": sequence},
    }


@pytest.fixture
async def channel(unit_settings: Settings, redis: Redis) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    base = socketio_channel(unit_settings.require_redis_url(), unit_settings.table_prefix)
    await pubsub.ssubscribe(bus_channel(base, "room:general"))  # the room of make_message()
    yield pubsub
    await pubsub.aclose()  # type: ignore[no-untyped-call]


async def published(pubsub: PubSub, seconds: float = 0.5) -> list[dict[str, Any]]:
    """What was published on the channel within the next `seconds`."""
    events = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
        if message is not None:
            events.append(json.loads(message["data"]))
    return events


async def test_a_batch_is_delivered_once(unit_settings: Settings, channel: PubSub) -> None:
    messages = [make_message(text=f"m{n}") for n in range(2)]
    records = [insert(message, str(n)) for n, message in enumerate(messages)]
    assert await handle_records(records, unit_settings) == {"batchItemFailures": []}
    assert [event["data"][0] for event in await published(channel)] == [
        message.to_json() for message in messages
    ]
    # Lambda retries whole batches: nothing is delivered twice.
    assert await handle_records(records, unit_settings) == {"batchItemFailures": []}
    assert await published(channel) == []


async def test_the_first_undelivered_record_is_reported(unit_settings: Settings) -> None:
    gone = unit_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    records = [insert(make_message(), "7"), insert(make_message(), "8")]
    assert await handle_records(records, gone) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
