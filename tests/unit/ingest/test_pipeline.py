"""Stream records in, each new valid message broadcast once: what the app sent itself, or
what was delivered before, is not delivered again; a failed broadcast is retried."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from parley.ids import ulid_at
from parley.ingest.pipeline import (
    Arrival,
    IngestStats,
    arrival_of,
    message_of,
    process_record,
    process_records,
)
from parley.models import Message
from parley.storage.messages import InvalidItem, to_item
from parley.storage.sends import DeliveryMarks, SendLedger
from tests.unit.support import RecordingBroadcaster, make_message


def record(message: Message | None, event: str = "INSERT", **image: Any) -> dict[str, Any]:
    new_image = {**to_item(message), **image} if message is not None else None
    dynamodb: dict[str, Any] = {"SequenceNumber": "100"}
    if new_image is not None:
        dynamodb["NewImage"] = new_image
    return {"eventName": event, "dynamodb": dynamodb}


@pytest.fixture
def marks(redis: Redis) -> DeliveryMarks:
    return DeliveryMarks(redis)


@pytest.fixture
def broadcaster() -> RecordingBroadcaster:
    return RecordingBroadcaster()


async def process(
    raw: dict[str, Any],
    marks: DeliveryMarks,
    broadcaster: RecordingBroadcaster,
    members: tuple[str, ...] = (),
) -> IngestStats:
    """One record through the pipeline, in a room whose members are `members`."""
    stats = IngestStats()
    await process_record(
        raw,
        deliveries=marks,
        broadcaster=broadcaster,
        mentions=broadcaster.mentions(*members),
        stats=stats,
    )
    return stats


def test_message_of_reads_inserts_only() -> None:
    message = make_message()
    assert message_of(record(message)) == message
    assert message_of(record(message, event="MODIFY")) is None
    assert message_of(record(message, event="REMOVE")) is None
    with pytest.raises(InvalidItem, match="no new image"):
        message_of(record(None))


async def test_a_new_message_is_delivered_once(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    first = await process(record(message), marks, broadcaster)
    again = await process(record(message), marks, broadcaster)
    assert broadcaster.messages == [message]
    assert (first.records, first.delivered) == (1, 1)
    assert (again.records, again.duplicates, again.delivered) == (1, 1, 0)


async def test_a_message_sent_through_the_app_is_not_delivered_again(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster, redis: Redis
) -> None:
    message = make_message(client_id="c1")
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    assert (await ledger.admit(message)).outcome == "admitted"
    stats = await process(record(message), marks, broadcaster)
    assert stats.duplicates == 1
    assert broadcaster.messages == []


async def test_an_outside_message_tells_the_members_it_mentions_once(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    """As the app's send: the members named (not the author, not a non-member) get `mention`,
    and the broadcast carries them; a second delivery of the record tells nobody again."""
    message = make_message(username="ada", text="@Bob @ada @carol @eve: look")
    # The item's own `mentions` is not trusted: eve is no member, so she is never told.
    raw = record(message, mentions={"L": [{"S": "eve"}]})
    for _ in range(2):
        await process(raw, marks, broadcaster, members=("ada", "bob", "carol"))
    told = replace(message, mentions=("bob", "ada", "carol"))
    assert broadcaster.messages == [told]
    event = {"room": message.room, "message": told.to_json()}
    assert broadcaster.to_users == [("bob", "mention", event), ("carol", "mention", event)]


async def test_a_message_sent_through_the_app_tells_nobody_again(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster, redis: Redis
) -> None:
    message = replace(make_message(client_id="c1", text="hi @bob"), mentions=("bob",))
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    assert (await ledger.admit(message)).outcome == "admitted"
    await process(record(message), marks, broadcaster, members=("ada", "bob"))
    assert (broadcaster.messages, broadcaster.to_users) == ([], [])


async def test_an_invalid_item_is_skipped_and_counted(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster, caplog: pytest.LogCaptureFixture
) -> None:
    stats = await process(record(make_message(), text={"S": "   "}), marks, broadcaster)
    no_image = await process(record(None), marks, broadcaster)
    assert (stats.invalid, no_image.invalid) == (1, 1)
    assert broadcaster.messages == []
    assert "stream record 100 skipped: text must be" in caplog.text


async def test_other_events_are_ignored(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    stats = await process(record(make_message(), event="MODIFY"), marks, broadcaster)
    assert (stats.ignored, stats.delivered) == (1, 0)


async def test_an_outside_item_is_normalized_before_delivery(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    await process(record(message, username={"S": " ada "}, text={"S": " hi "}), marks, broadcaster)
    assert [(m.username, m.text) for m in broadcaster.messages] == [("ada", "hi")]


async def test_a_failed_broadcast_raises_and_the_record_can_be_retried(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    broadcaster.fail_with = RedisConnectionError("redis away")
    with pytest.raises(RedisConnectionError):
        await process(record(message), marks, broadcaster)
    broadcaster.fail_with = None
    stats = await process(record(message), marks, broadcaster)
    assert stats.delivered == 1
    assert broadcaster.messages == [message]


async def test_records_are_processed_in_order_into_one_tally(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    messages = [make_message(text=f"m{n}") for n in range(3)]
    stats = IngestStats()
    records = [record(m) for m in messages] + [record(messages[0], event="REMOVE")]
    await process_records(
        records,
        deliveries=marks,
        broadcaster=broadcaster,
        mentions=broadcaster.mentions(),
        stats=stats,
    )
    assert broadcaster.messages == messages
    assert stats == IngestStats(records=4, ignored=1, delivered=3)


@pytest.mark.parametrize(("age", "warned"), [(60.0, True), (2.0, False)])
async def test_an_item_whose_id_is_far_older_than_its_arrival_is_warned_about(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster, caplog: pytest.LogCaptureFixture,
    age: float, warned: bool,
) -> None:  # fmt: skip
    # Written straight into the table under an id `age` seconds old.
    message = make_message(message_id=ulid_at(time.time() - age))
    raw = record(message)
    raw["dynamodb"]["ApproximateCreationDateTime"] = datetime.now(UTC)
    await process(raw, marks, broadcaster)
    assert broadcaster.messages == [message]  # delivered all the same
    late = [r.getMessage() for r in caplog.records if "after its id's time" in r.getMessage()]
    assert bool(late) is warned
    if warned:
        assert message.id in late[0]
        assert "clients catching up may miss it" in late[0]


# --- changes (rich messages) -------------------------------------------------------------------


def change(
    before: Message | None, after: Message | None, event: str = "MODIFY", **extra: Any
) -> dict[str, Any]:
    """A record of a stream of new and old images."""
    dynamodb: dict[str, Any] = {
        "SequenceNumber": extra.pop("sequence", "200"),
        "ApproximateCreationDateTime": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    if before is not None:
        dynamodb["OldImage"] = {**to_item(before), **extra.pop("old", {})}
    if after is not None:
        dynamodb["NewImage"] = {**to_item(after), **extra.pop("new", {})}
    return {"eventName": event, "dynamodb": dynamodb}


async def test_an_outside_edit_is_delivered_once_as_an_edit(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message(text="helo")
    raw = change(message, replace(message, text="hello"))
    first = await process(raw, marks, broadcaster)
    again = await process(raw, marks, broadcaster)  # a retried record
    assert broadcaster.updates == [
        replace(message, text="hello", edited_at="2026-01-02T03:04:05.000Z")
    ]
    assert (first.delivered, again.duplicates) == (1, 1)


async def test_an_edit_time_the_writer_set_is_kept(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message(text="a")
    edited = replace(message, text="b", edited_at="2025-05-05T05:05:05.000Z")
    await process(change(message, edited), marks, broadcaster)
    assert broadcaster.updates == [edited]


async def test_a_change_nobody_sees_is_ignored(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    bookkeeping = change(message, message, new={"replies": {"SS": [make_message().id]}})
    stats = await process(bookkeeping, marks, broadcaster)
    assert (stats.ignored, broadcaster.updates) == (1, [])


async def test_an_outside_removal_is_the_tombstone(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message(client_id="c1")
    await process(change(message, None, event="REMOVE"), marks, broadcaster)
    assert broadcaster.updates == [message.as_deleted()]
    gone = message.as_deleted()
    stats = await process(change(gone, None, event="REMOVE", sequence="300"), marks, broadcaster)
    assert stats.ignored == 1  # removing a tombstone shows nothing new


async def test_a_change_made_through_the_app_is_not_delivered_again(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    token = make_message().id
    assert await marks.claim_change(message.room, message.id, token)  # as parley.editing does
    edited = replace(message, text="edited", edited_at="2026-01-01T00:00:00.000Z")
    stats = await process(
        change(message, edited, new={"changedAt": {"S": token}}), marks, broadcaster
    )
    assert (stats.duplicates, broadcaster.updates) == (1, [])


async def test_a_failed_update_broadcast_is_retried(
    marks: DeliveryMarks, broadcaster: RecordingBroadcaster
) -> None:
    message = make_message()
    raw = change(message, replace(message, text="x"))
    broadcaster.fail_with = RedisConnectionError("redis away")
    with pytest.raises(RedisConnectionError):
        await process(raw, marks, broadcaster)
    broadcaster.fail_with = None
    assert (await process(raw, marks, broadcaster)).delivered == 1


def test_a_change_without_its_old_image_is_ignored() -> None:
    """A stream of new images only (a table from before rich messages) cannot tell."""
    message = make_message()
    assert arrival_of(change(None, message)) is None
    assert arrival_of(change(None, None, event="REMOVE")) is None
    assert arrival_of(change(message, message, event="MODIFY")) is None
    assert arrival_of(change(message, replace(message, text="y"))) == Arrival(
        replace(message, text="y", edited_at="2026-01-02T03:04:05.000Z"), "seq:200"
    )
