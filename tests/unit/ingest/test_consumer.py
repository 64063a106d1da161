"""The in-app stream consumer, in this process: it takes the lease, follows the messages
table's stream from "now" on the first start and from its checkpoints after that, and hands
each new message to the broadcaster."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol

import pytest
from redis.asyncio import Redis

from parley.config import Settings
from parley.ingest import consumer as consumer_module
from parley.ingest.consumer import StreamConsumer
from parley.ingest.producer import put_message
from parley.metrics import Metrics
from parley.models import Message
from parley.storage.dynamo import DynamoClient, TableNames, open_client
from parley.storage.sends import DeliveryMarks
from parley.storage.stream_state import StreamCheckpoints, StreamLease
from tests.unit.support import RecordingBroadcaster, new_name


@pytest.fixture
async def streams(unit_settings: Settings) -> AsyncIterator[DynamoClient]:
    async with open_client(unit_settings, "dynamodbstreams") as client:
        yield client


@asynccontextmanager
async def running(consumer: StreamConsumer, redis: Redis) -> AsyncIterator[StreamConsumer]:
    task = asyncio.create_task(consumer.run())
    try:
        await until(lambda: _started(redis))
        yield consumer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _started(redis: Redis) -> bool:
    async for key in redis.scan_iter("ingest:checkpoint:*"):
        if await redis.hexists(key, "*started*"):
            return True
    return False


async def until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


class MakeConsumer(Protocol):
    def __call__(
        self, broadcaster: RecordingBroadcaster, metrics: Metrics, lease: StreamLease | None = None
    ) -> StreamConsumer: ...


@pytest.fixture
def make_consumer(
    dynamo: DynamoClient, streams: DynamoClient, tables: TableNames, redis: Redis
) -> MakeConsumer:
    def make(
        broadcaster: RecordingBroadcaster, metrics: Metrics, lease: StreamLease | None = None
    ) -> StreamConsumer:
        return StreamConsumer(
            dynamo=dynamo,
            streams=streams,
            table=tables.messages,
            lease=lease or StreamLease(redis, table=tables.messages, holder=secrets.token_hex(4)),
            checkpoints_for=lambda arn: StreamCheckpoints(redis, stream_arn=arn),
            deliveries=DeliveryMarks(redis),
            broadcaster=broadcaster,
            mentions=broadcaster.mentions(),
            metrics=metrics,
        )

    return make


async def write(settings: Settings, room: str, text: str) -> Message:
    data = await asyncio.to_thread(put_message, settings, room=room, username="outsider", text=text)
    return Message.from_json(data)


async def consume_once(
    make_consumer: MakeConsumer, settings: Settings, redis: Redis, room: str
) -> None:
    """A consumer that started, delivered one message and stopped: the next one resumes
    from its checkpoint."""
    broadcaster = RecordingBroadcaster()
    async with running(make_consumer(broadcaster, Metrics()), redis):
        written = await write(settings, room, "before the restart")
        await until(lambda: written in broadcaster.messages)


async def test_an_outside_write_is_delivered_and_counted(
    make_consumer: MakeConsumer,
    unit_settings: Settings,
    redis: Redis,
    metrics: Metrics,
) -> None:
    broadcaster = RecordingBroadcaster()
    room = new_name("room")
    async with running(make_consumer(broadcaster, metrics), redis) as consumer:
        written = await write(unit_settings, room, "from outside")
        await until(lambda: written in broadcaster.messages)
    assert [m for m in broadcaster.messages if m.room == room] == [written]
    assert consumer.stats.delivered >= 1
    sample = metrics.registry.get_sample_value
    assert (sample("parley_stream_records_total", {"outcome": "delivered"}) or 0) >= 1
    assert (sample("parley_messages_broadcast_total", {"source": "stream"}) or 0) >= 1


async def test_a_restarted_consumer_resumes_from_its_checkpoint(
    make_consumer: MakeConsumer,
    unit_settings: Settings,
    redis: Redis,
) -> None:
    room = new_name("room")
    await consume_once(make_consumer, unit_settings, redis, room)
    while_down = [await write(unit_settings, room, f"while down {n}") for n in range(2)]
    second = RecordingBroadcaster()
    async with running(make_consumer(second, Metrics()), redis):
        await until(lambda: all(m in second.messages for m in while_down))
        await asyncio.sleep(0.3)
    assert [m for m in second.messages if m.room == room] == while_down


class LeaseLosingACancellation(StreamLease):
    """Its first renewal loses a cancellation thrown into it, as a redis-py or aiohttp read
    cancelled at the wrong moment sometimes does (the call returns normally)."""

    def __init__(self, redis: Redis, table: str) -> None:
        super().__init__(redis, table=table, holder=secrets.token_hex(4))
        self.entered = asyncio.Event()

    async def hold(self) -> bool:
        if not self.entered.is_set():
            self.entered.set()
            with suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)
        return await super().hold()


async def test_a_consumer_stops_even_when_a_call_lost_its_cancellation(
    make_consumer: MakeConsumer,
    tables: TableNames,
    redis: Redis,
) -> None:
    lease = LeaseLosingACancellation(redis, tables.messages)
    task = asyncio.create_task(make_consumer(RecordingBroadcaster(), Metrics(), lease).run())
    await lease.entered.wait()
    task.cancel()
    # Without the check at each turn, the consumer reads on and this waits until the timeout.
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await redis.exists(f"ingest:lease:{tables.messages}")  # released on the way out


class PagesRead:
    """The stream client of a consumer, noting how many records each GetRecords returned."""

    def __init__(self, inner: DynamoClient, events: list[str]) -> None:
        self._inner = inner
        self._events = events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_records(self, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = await self._inner.get_records(**kwargs)
        self._events.append(f"page of {len(response.get('Records', []))}")
        return response


async def test_only_a_full_page_is_followed_by_the_next_poll_at_once(
    make_consumer: MakeConsumer,
    unit_settings: Settings,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backlog is read page after page; a page short of the limit means the shard is read
    to its end, so the next poll waits its interval (a busy table's endpoint is not asked
    for its few new records back to back)."""
    room = new_name("room")
    await consume_once(make_consumer, unit_settings, redis, room)
    backlog = [await write(unit_settings, room, f"backlog {n}") for n in range(5)]
    monkeypatch.setattr(consumer_module, "RECORDS_PER_POLL", 2)
    events: list[str] = []
    second = RecordingBroadcaster()
    consumer = make_consumer(second, Metrics())
    consumer._streams = PagesRead(consumer._streams, events)  # type: ignore[assignment]
    wait = consumer._between_polls

    async def noted_wait() -> None:
        events.append("wait")
        await wait()

    consumer._between_polls = noted_wait  # type: ignore[method-assign]
    async with running(consumer, redis):
        await until(lambda: all(m in second.messages for m in backlog))
        await until(lambda: events.count("wait") >= 2)
    pages = [n for n, event in enumerate(events) if event.startswith("page")]
    assert [events[n] for n in pages[:3]] == ["page of 2", "page of 2", "page of 1"]
    for n in pages[:-1]:
        assert (events[n + 1] == "wait") == (events[n] != "page of 2"), events
