"""Sending a message: stored before it is acknowledged, once per clientId, broadcast in id
order per room; refused (SendRefused) on the rate limit or when DynamoDB is away. Real Redis
and DynamoDB; the broadcaster records what it got."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from redis.asyncio import Redis

from parley import messaging
from parley.errors import ErrorCode
from parley.ids import new_ulid, ulid_at, ulid_seconds
from parley.messaging import Messenger, RoomSequencer, SendRefused, VisibilityBound
from parley.metrics import Metrics
from parley.models import Quote
from parley.storage.dynamo import DynamoClient, TableNames
from parley.storage.messages import MessageStore
from parley.storage.sends import SendLedger
from tests.unit.support import (
    RecordingBroadcaster,
    answer_lost,
    delayed,
    failing,
    hooked,
    make_message,
    new_name,
    refused,
)

# --- RoomSequencer ---------------------------------------------------------------------


async def nothing() -> None:
    return None


def recorder(order: list[str]) -> Callable[[str], Callable[[], Awaitable[None]]]:
    async def record(name: str) -> None:
        order.append(name)

    return lambda name: partial(record, name)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_ids_are_drawn_in_increasing_order() -> None:
    sequencer = RoomSequencer()
    ids = [sequencer.draw("general")[0] for _ in range(3)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


async def test_a_later_send_waits_for_the_turn_of_the_earlier_one() -> None:
    sequencer = RoomSequencer()
    order: list[str] = []
    record = recorder(order)
    _, first_turn = sequencer.draw("general")
    _, second_turn = sequencer.draw("general")
    second = asyncio.ensure_future(second_turn(record("second")))
    await settle()
    assert order == []
    assert not second.done()
    await first_turn(record("first"))
    await second
    assert order == ["first", "second"]


async def test_a_failed_send_passes_its_turn_on() -> None:
    sequencer = RoomSequencer()
    order: list[str] = []
    record = recorder(order)
    _, failed_turn = sequencer.draw("general")
    _, next_turn = sequencer.draw("general")
    waiting = asyncio.ensure_future(next_turn(record("next")))
    await failed_turn(nothing)
    await waiting
    assert order == ["next"]


async def test_a_broadcast_that_raises_still_passes_the_turn_on() -> None:
    sequencer = RoomSequencer()
    order: list[str] = []
    _, broken_turn = sequencer.draw("general")
    _, next_turn = sequencer.draw("general")
    waiting = asyncio.ensure_future(next_turn(recorder(order)("next")))

    async def broken() -> None:
        raise RuntimeError("socket layer down")

    with pytest.raises(RuntimeError):
        await broken_turn(broken)
    await waiting
    assert order == ["next"]


async def test_a_send_cancelled_in_line_passes_its_turn_on() -> None:
    sequencer = RoomSequencer()
    order: list[str] = []
    record = recorder(order)
    _, first_turn = sequencer.draw("general")
    _, cancelled_turn = sequencer.draw("general")
    _, third_turn = sequencer.draw("general")
    cancelled = asyncio.ensure_future(cancelled_turn(record("cancelled")))
    third = asyncio.ensure_future(third_turn(record("third")))
    await settle()
    cancelled.cancel()
    await first_turn(record("first"))
    await third
    assert order == ["first", "third"]
    assert cancelled.cancelled()


async def test_rooms_do_not_wait_for_each_other() -> None:
    sequencer = RoomSequencer()
    order: list[str] = []
    _, blocked_turn = sequencer.draw("general")
    _, other_turn = sequencer.draw("random")
    await asyncio.wait_for(other_turn(recorder(order)("random")), 1)
    await blocked_turn(nothing)
    assert order == ["random"]


async def test_a_turn_after_the_line_emptied_runs_at_once() -> None:
    sequencer = RoomSequencer()
    _, turn = sequencer.draw("general")
    await turn(nothing)
    _, later = sequencer.draw("general")
    await asyncio.wait_for(later(nothing), 1)


# --- Messenger -------------------------------------------------------------------------


@pytest.fixture
def store(dynamo: DynamoClient, tables: TableNames) -> MessageStore:
    return MessageStore(dynamo, tables.messages)


@pytest.fixture
def ledger(redis: Redis) -> SendLedger:
    return SendLedger(redis, rate_per_second=1000, burst=1000)


@pytest.fixture
def broadcaster() -> RecordingBroadcaster:
    return RecordingBroadcaster()


@pytest.fixture
def messenger(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster, metrics: Metrics
) -> Messenger:
    return Messenger(
        messages=store,
        ledger=ledger,
        broadcaster=broadcaster,
        mentions=broadcaster.mentions("ada", "bob"),
        metrics=metrics,
    )


def send(messenger: Messenger, text: str, client_id: str, **fields: str) -> Any:
    args = {"username": "ada", "room": "general", "text": text, "client_id": client_id}
    return messenger.send(**(args | fields))


async def test_a_message_is_stored_then_broadcast(
    messenger: Messenger,
    store: MessageStore,
    broadcaster: RecordingBroadcaster,
    metrics: Metrics,
) -> None:
    message = await send(messenger, "hello", "c1")
    assert (message.username, message.room, message.text, message.client_id) == (
        "ada",
        "general",
        "hello",
        "c1",
    )
    assert await store.exists("general", message.id)
    assert broadcaster.messages == [message]
    registry = metrics.registry
    assert registry.get_sample_value("parley_messages_stored_total") == 1
    assert registry.get_sample_value("parley_messages_broadcast_total", {"source": "app"}) == 1
    assert registry.get_sample_value("parley_delivery_seconds_count") == 1


async def test_a_message_keeps_the_members_it_mentions_and_tells_each_of_them(
    messenger: Messenger, broadcaster: RecordingBroadcaster
) -> None:
    message = await send(messenger, "@bob @Ada @eve and `@bob`", "m1", username="ada")
    assert message.mentions == ("bob", "ada")  # members only; eve is not one
    assert broadcaster.messages == [message]
    event = {"room": message.room, "message": message.to_json()}
    assert broadcaster.to_users == [("bob", "mention", event)]  # not the author
    again = await send(messenger, "@bob @Ada @eve and `@bob`", "m1", username="ada")
    assert again == message
    assert len(broadcaster.to_users) == 1  # a repeat tells nobody again


async def test_a_repeated_client_id_returns_the_first_message_and_broadcasts_once(
    messenger: Messenger, broadcaster: RecordingBroadcaster
) -> None:
    first = await send(messenger, "hello", "c1")
    again = await send(messenger, "hello (retried)", "c1")
    assert again == first
    assert broadcaster.messages == [first]


async def test_a_repeat_reads_the_first_message_back_from_dynamodb(
    messenger: Messenger, store: MessageStore, dynamo: DynamoClient, redis: Redis,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    first = await send(messenger, "hello", "c1")
    # The ledger keeps only where the message is, not the message.
    assert await redis.get("sent:{u:ada}:c1") == f"s|general|{first.id}"
    with refused(dynamo, "GetItem"), pytest.raises(SendRefused) as refusal:
        await send(messenger, "hello", "c1")
    assert refusal.value.problem.code == "unavailable"
    assert await send(messenger, "hello", "c1") == first
    assert broadcaster.messages == [first]


async def test_a_repeat_of_a_message_deleted_since_is_refused(
    messenger: Messenger, dynamo: DynamoClient, tables: TableNames,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    first = await send(messenger, "hello", "c1")
    key = {"room": {"S": "general"}, "id": {"S": first.id}}
    await dynamo.delete_item(TableName=tables.messages, Key=key)
    with pytest.raises(SendRefused) as refusal:
        await send(messenger, "hello", "c1")
    assert refusal.value.problem.code == "invalid"
    assert broadcaster.messages == [first]  # not stored nor broadcast again


async def test_client_ids_are_per_user(
    messenger: Messenger, broadcaster: RecordingBroadcaster
) -> None:
    mine = await send(messenger, "hello", "c1")
    theirs = await send(messenger, "hello", "c1", username="bob")
    assert mine.id != theirs.id
    assert broadcaster.messages == [mine, theirs]


async def test_broadcasts_keep_id_order_when_a_later_send_is_stored_first(
    messenger: Messenger, store: MessageStore, dynamo: DynamoClient,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    gate = asyncio.Event()
    with delayed(dynamo, "PutItem", gate, marker="slow first"):
        first = asyncio.create_task(send(messenger, "slow first", "c1"))
        await settle()
        later = asyncio.create_task(send(messenger, "quick second", "c2"))
        await _until_stored(store, "quick second")
        assert broadcaster.messages == []
        assert not later.done()
        gate.set()
        sent = [await first, await later]
    assert sent[0].id < sent[1].id
    assert broadcaster.messages == sent


async def _until_stored(store: MessageStore, text: str) -> None:
    for _ in range(200):
        page = await store.latest("general", limit=10)
        if any(message.text == text for message in page.messages):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{text!r} was not stored")


async def test_a_failed_send_passes_its_turn_to_the_next_in_its_room(
    messenger: Messenger, store: MessageStore, dynamo: DynamoClient,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    gate = asyncio.Event()

    async def wait_then_fail(params: dict[str, Any], **_: Any) -> None:
        if b"doomed" in params["body"]:
            await gate.wait()
            raise ConnectionRefusedError("DynamoDB went away")

    with hooked(dynamo, "before-call.dynamodb.PutItem", wait_then_fail):
        doomed = asyncio.create_task(send(messenger, "doomed", "c1"))
        await settle()
        later = asyncio.create_task(send(messenger, "after it", "c2"))
        await _until_stored(store, "after it")
        assert not later.done()
        gate.set()
        with pytest.raises(SendRefused, match="database is unavailable"):
            await doomed
        delivered = await asyncio.wait_for(later, 2)
    assert broadcaster.messages == [delivered]


async def test_storage_failure_is_refused_and_the_client_id_freed_for_a_retry(
    messenger: Messenger, dynamo: DynamoClient, broadcaster: RecordingBroadcaster
) -> None:
    with refused(dynamo, "PutItem"), pytest.raises(SendRefused) as refusal:
        await send(messenger, "hello", "c1")
    assert str(refusal.value) == "Message not stored: the database is unavailable, retry"
    assert refusal.value.problem.code is ErrorCode.UNAVAILABLE
    assert refusal.value.problem.retry_after is not None
    assert broadcaster.messages == []
    retried = await send(messenger, "hello", "c1")
    assert broadcaster.messages == [retried]


async def test_storage_failure_is_refused_when_the_check_fails_too(
    messenger: Messenger, dynamo: DynamoClient, broadcaster: RecordingBroadcaster
) -> None:
    with refused(dynamo, "PutItem"), refused(dynamo, "GetItem"), pytest.raises(SendRefused):
        await send(messenger, "hello", "c1")
    assert broadcaster.messages == []


async def test_a_write_whose_answer_was_lost_counts_as_stored(
    messenger: Messenger, store: MessageStore, dynamo: DynamoClient,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    with answer_lost(dynamo, "PutItem"):
        message = await send(messenger, "hello", "c1")
    assert await store.exists("general", message.id)
    assert broadcaster.messages == [message]
    assert await send(messenger, "hello", "c1") == message


async def test_an_unexpected_error_frees_the_client_id_and_propagates(
    messenger: Messenger, dynamo: DynamoClient, broadcaster: RecordingBroadcaster
) -> None:
    with failing(dynamo, "PutItem", RuntimeError("bug")), pytest.raises(RuntimeError):
        await send(messenger, "hello", "c1")
    retried = await send(messenger, "hello", "c1")
    assert broadcaster.messages == [retried]


async def test_the_rate_limit_refuses_a_send_without_storing_it(
    store: MessageStore, redis: Redis, broadcaster: RecordingBroadcaster, metrics: Metrics
) -> None:
    strict = SendLedger(redis, rate_per_second=1, burst=2)
    messenger = Messenger(
        messages=store,
        ledger=strict,
        broadcaster=broadcaster,
        mentions=broadcaster.mentions(),
        metrics=metrics,
    )
    allowed = [await send(messenger, f"m{n}", f"c{n}") for n in range(2)]
    with pytest.raises(SendRefused) as refusal:
        await send(messenger, "one too many", "c2")
    assert str(refusal.value).startswith("Rate limit: too many messages, retry in ")
    seconds = float(str(refusal.value).split()[-2])
    assert 0.1 <= seconds <= 1.0
    assert refusal.value.problem.code is ErrorCode.RATE_LIMITED
    assert refusal.value.problem.retry_after == seconds
    assert broadcaster.messages == allowed
    # The refusal passed its turn: the room is not stuck.
    other_user = await send(messenger, "from bob", "c0", username="bob")
    assert broadcaster.messages == [*allowed, other_user]


async def test_a_repeat_waits_for_its_first_copy_still_being_stored(
    messenger: Messenger, ledger: SendLedger, store: MessageStore,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    first = make_message(client_id="c1")
    assert (await ledger.admit(first)).outcome == "admitted"

    async def first_sender_finishes() -> None:
        await asyncio.sleep(0.1)
        await store.put(first)
        await ledger.record(first)

    finishing = asyncio.create_task(first_sender_finishes())
    again = await send(messenger, "hello", "c1")
    await finishing
    assert again == first
    assert broadcaster.messages == []


async def test_an_orphaned_send_is_taken_over_after_the_wait(
    messenger: Messenger, ledger: SendLedger, store: MessageStore,
    broadcaster: RecordingBroadcaster, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(messaging, "DUPLICATE_WAIT_SECONDS", 0.2)
    # A sender recorded its clientId as pending, then its process died before storing.
    orphan = make_message(client_id="c1", text="as first sent")
    assert (await ledger.admit(orphan)).outcome == "admitted"
    started = time.monotonic()
    taken_over = await send(messenger, "as retried", "c1")
    assert time.monotonic() - started >= 0.2
    assert taken_over == orphan  # the pending message itself, not a copy
    assert await store.exists("general", orphan.id)
    assert broadcaster.messages == [orphan]
    assert await send(messenger, "as retried", "c1") == orphan
    assert broadcaster.messages == [orphan]


async def test_drain_waits_for_the_sends_under_way(
    messenger: Messenger, dynamo: DynamoClient
) -> None:
    assert await messenger.drain(0.01)
    gate = asyncio.Event()
    with delayed(dynamo, "PutItem", gate, marker="in flight"):
        sending = asyncio.create_task(send(messenger, "in flight", "c1"))
        await settle()
        assert not await messenger.drain(0.05)
        gate.set()
        assert await messenger.drain(5)
    await sending


# --- The visibility bound --------------------------------------------------------------

# Half a second instead of 10 s: the same rule, at test speed.
SHORT = VisibilityBound(seconds=0.5, write_seconds=0.3, skew_seconds=0.05)


def bounded(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster, metrics: Metrics,
    clock: Callable[[], float] = time.time,
) -> Messenger:  # fmt: skip
    return Messenger(
        messages=store, ledger=ledger, broadcaster=broadcaster,
        mentions=broadcaster.mentions(), metrics=metrics, bound=SHORT, clock=clock,
    )  # fmt: skip


def test_the_bound_says_how_long_a_write_may_still_take() -> None:
    bound = VisibilityBound(seconds=10, write_seconds=4, skew_seconds=1)
    message_id = ulid_at(1000.0)
    assert bound.time_left(message_id, 1003.0) == 7.0
    assert bound.can_start_write(message_id, 1006.0)
    assert not bound.can_start_write(message_id, 1006.5)
    assert bound.until_past(message_id, 1008.0) == 3.0
    assert bound.until_past(message_id, 1012.0) == 0.0


async def test_an_id_that_grew_too_old_while_waiting_is_redrawn(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster, metrics: Metrics
) -> None:
    messenger = bounded(store, ledger, broadcaster, metrics)
    # A first copy is being stored; it fails after 0.4 s and frees its clientId.
    first = make_message(client_id="c1")
    assert (await ledger.admit(first)).outcome == "admitted"
    started = time.time()

    async def first_copy_fails() -> None:
        await asyncio.sleep(0.4)
        await ledger.release(first)

    failing_first = asyncio.create_task(first_copy_fails())
    message = await send(messenger, "hello", "c1")
    await failing_first
    # Drawn when the retry came, its id would have left under 0.3 s to store it in.
    assert ulid_seconds(message.id) >= started + 0.35
    assert await store.exists("general", message.id)
    assert broadcaster.messages == [message]


async def test_a_redrawn_send_keeps_the_room_in_id_order(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster, metrics: Metrics
) -> None:
    messenger = bounded(store, ledger, broadcaster, metrics)
    first = make_message(client_id="c1")
    assert (await ledger.admit(first)).outcome == "admitted"
    waiting = asyncio.create_task(send(messenger, "hello", "c1"))  # redrawn after 0.4 s
    await asyncio.sleep(0.1)
    other = await asyncio.wait_for(send(messenger, "meanwhile", "c2", username="bob"), 2)
    await asyncio.sleep(0.3)
    await ledger.release(first)
    redrawn = await waiting
    assert other.id < redrawn.id
    assert broadcaster.messages == [other, redrawn]


async def test_a_write_still_running_at_the_bound_is_cut_off_and_refused(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster,
    metrics: Metrics, dynamo: DynamoClient,
) -> None:  # fmt: skip
    messenger = bounded(store, ledger, broadcaster, metrics)
    room = new_name("room")
    with (
        delayed(dynamo, "PutItem", asyncio.Event(), marker="stuck"),
        pytest.raises(SendRefused, match="database is unavailable"),
    ):
        await send(messenger, "stuck", "c1", room=room)
    assert broadcaster.messages == []
    assert (await store.latest(room, limit=10)).messages == []
    retried = await send(messenger, "stuck", "c1", room=room)  # its clientId was freed
    assert broadcaster.messages == [retried]


async def test_a_send_admitted_too_late_to_keep_the_bound_is_refused(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster,
    metrics: Metrics, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ahead = [0.0]
    messenger = bounded(store, ledger, broadcaster, metrics, clock=lambda: time.time() + ahead[0])
    admit = ledger.admit

    async def slow_admit(intended: Any) -> Any:
        result = await admit(intended)
        ahead[0] = 0.3  # as if Redis took 0.3 s to answer
        return result

    monkeypatch.setattr(ledger, "admit", slow_admit)
    room = new_name("room")
    with pytest.raises(SendRefused, match="too slow"):
        await send(messenger, "hello", "c1", room=room)
    assert broadcaster.messages == []
    assert (await store.latest(room, limit=10)).messages == []
    monkeypatch.setattr(ledger, "admit", admit)
    ahead[0] = 0.0
    assert (await send(messenger, "hello", "c1")).client_id == "c1"  # the clientId was freed


async def test_an_orphan_past_the_bound_is_sent_anew_once(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster, metrics: Metrics
) -> None:
    # The loser of the race waits the production time (DUPLICATE_WAIT_SECONDS) for the winner's
    # copy: shorter ones (1 s, then 3 s) let it find the winner stored but not yet recorded,
    # beside the whole suite on 2 cores, and take it over as an orphan (a second broadcast).
    messenger = bounded(store, ledger, broadcaster, metrics)
    other = bounded(store, ledger, broadcaster, metrics)  # another instance
    room = new_name("room")
    orphan = make_message(room=room, client_id="c1", message_id=ulid_at(time.time() - 1.0))
    assert (await ledger.admit(orphan)).outcome == "admitted"
    # Two retries race for the clientId: exactly one stores it, under a new id.
    taken = await asyncio.gather(
        send(messenger, "hello", "c1", room=room), send(other, "hello", "c1", room=room)
    )
    assert taken[0] == taken[1]
    assert taken[0].id != orphan.id
    assert taken[0].client_id == "c1"
    assert [m.id for m in (await store.latest(room, limit=10)).messages] == [taken[0].id]
    assert broadcaster.messages == [taken[0]]
    assert await send(messenger, "hello", "c1") == taken[0]


async def test_an_orphan_stored_within_the_bound_is_recorded_not_copied(
    store: MessageStore, ledger: SendLedger, broadcaster: RecordingBroadcaster,
    metrics: Metrics, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(messaging, "DUPLICATE_WAIT_SECONDS", 0.1)
    messenger = bounded(store, ledger, broadcaster, metrics)
    room = new_name("room")
    orphan = make_message(room=room, client_id="c1", message_id=ulid_at(time.time() - 1.0))
    assert (await ledger.admit(orphan)).outcome == "admitted"
    await store.put(orphan)  # its sender stored it, then died before recording it
    taken = await send(messenger, "hello", "c1")
    assert taken == orphan
    assert broadcaster.messages == [orphan]
    assert await send(messenger, "hello", "c1") == orphan
    assert [m.id for m in (await store.latest(room, limit=10)).messages] == [orphan.id]


# --- replies -------------------------------------------------------------------------------------


async def test_a_reply_quotes_its_parent(
    messenger: Messenger, store: MessageStore, broadcaster: RecordingBroadcaster
) -> None:
    parent = await send(messenger, "q" * 300, "p1")
    reply = await send(messenger, "an answer", "r1", reply_to=parent.id)
    assert reply.reply_to == Quote(id=parent.id, username="ada", text="q" * 200)
    assert await store.get("general", reply.id) == reply
    assert broadcaster.messages == [parent, reply]


async def test_a_reply_to_what_is_not_there_is_refused_and_not_stored(
    messenger: Messenger, store: MessageStore, broadcaster: RecordingBroadcaster
) -> None:
    elsewhere = await send(messenger, "in another room", "e1", room="elsewhere")
    gone = await send(messenger, "gone", "g1")
    await store.erase(gone, change=new_ulid())
    for parent, code in (
        (elsewhere.id, ErrorCode.NOT_FOUND),
        (new_ulid(), ErrorCode.NOT_FOUND),
        (gone.id, ErrorCode.CONFLICT),
    ):
        with pytest.raises(SendRefused) as refused:
            await send(messenger, "re", f"r-{parent}", reply_to=parent)
        assert refused.value.problem.code is code
    assert broadcaster.messages == [elsewhere, gone]


async def test_a_parent_deleted_while_its_reply_is_stored_refuses_the_reply(
    messenger: Messenger, store: MessageStore, dynamo: DynamoClient,
    broadcaster: RecordingBroadcaster,
) -> None:  # fmt: skip
    parent = await send(messenger, "about to go", "p2")
    gate = asyncio.Event()
    with delayed(dynamo, "TransactWriteItems", gate, marker="racing reply"):
        sending = asyncio.create_task(send(messenger, "racing reply", "r2", reply_to=parent.id))
        await asyncio.sleep(0.2)
        await store.erase(parent, change=new_ulid())
        gate.set()
        with pytest.raises(SendRefused) as refused:
            await sending
    assert refused.value.problem.code is ErrorCode.CONFLICT
    assert broadcaster.messages == [parent]
