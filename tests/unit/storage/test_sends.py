"""The Lua gate of a send, in one Redis round trip: a known clientId gives its record (pending
or stored), otherwise the per-user GCRA limit admits or refuses; and the delivered marks that
keep the stream pipeline from delivering a message twice."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from redis.asyncio import Redis

from parley.storage.sends import (
    DELIVERED_TTL_SECONDS,
    SENT_TTL_SECONDS,
    DeliveryMarks,
    MessageKey,
    SendLedger,
)
from tests.unit.support import make_message


@pytest.fixture
def ledger(redis: Redis) -> SendLedger:
    return SendLedger(redis, rate_per_second=1000, burst=1000)


async def test_a_new_client_id_is_admitted(ledger: SendLedger) -> None:
    result = await ledger.admit(make_message(client_id="c1"))
    assert result.outcome == "admitted"
    assert result.message is None


async def test_an_admitted_send_is_pending_until_recorded(ledger: SendLedger) -> None:
    first = make_message(client_id="c1")
    await ledger.admit(first)
    repeat = await ledger.admit(make_message(client_id="c1", text="again"))
    assert (repeat.outcome, repeat.message) == ("pending", first)
    await ledger.record(first)
    repeat = await ledger.admit(make_message(client_id="c1", text="again"))
    # Stored: the record says where the message is (the caller reads it from DynamoDB).
    assert (repeat.outcome, repeat.stored) == ("stored", MessageKey(first.room, first.id))


async def test_a_stored_record_keeps_only_where_the_message_is(
    ledger: SendLedger, redis: Redis
) -> None:
    # The record stays for 48 h: it must not hold the text (up to 16 KB).
    message = make_message(room="random-talk", client_id="c1", text="\U0001f600" * 4000)
    await ledger.admit(message)
    assert await redis.strlen("sent:{u:ada}:c1") > 16000  # pending: the whole message, in bytes
    await ledger.record(message)
    assert await redis.get("sent:{u:ada}:c1") == f"s|random-talk|{message.id}"
    assert await redis.memory_usage("sent:{u:ada}:c1") <= 128


async def test_a_record_in_the_former_format_still_counts_as_stored(
    ledger: SendLedger, redis: Redis
) -> None:
    # Written before the records shrank ("s" + the message as JSON), still within its 48 h.
    message = make_message(client_id="c1")
    await redis.set("sent:{u:ada}:c1", "s" + orjson.dumps(message.to_json()).decode())
    repeat = await ledger.admit(make_message(client_id="c1"))
    assert (repeat.outcome, repeat.stored) == ("stored", MessageKey(message.room, message.id))


async def test_client_ids_belong_to_a_user_whatever_the_case(ledger: SendLedger) -> None:
    await ledger.admit(make_message(username="Ada", client_id="c1"))
    assert (await ledger.admit(make_message(username="ada", client_id="c1"))).outcome == "pending"
    assert (await ledger.admit(make_message(username="bob", client_id="c1"))).outcome == (
        "admitted"
    )


async def test_release_forgets_a_pending_record_so_a_retry_is_admitted(
    ledger: SendLedger,
) -> None:
    intended = make_message(client_id="c1")
    await ledger.admit(intended)
    await ledger.release(intended)
    assert (await ledger.admit(make_message(client_id="c1"))).outcome == "admitted"


async def test_release_leaves_a_record_that_is_not_its_own(ledger: SendLedger) -> None:
    intended = make_message(client_id="c1")
    await ledger.admit(intended)
    await ledger.release(make_message(client_id="c1"))  # another send's pending message
    assert (await ledger.admit(make_message(client_id="c1"))).outcome == "pending"
    await ledger.record(intended)
    await ledger.release(intended)  # stored: no longer the pending record it released
    assert (await ledger.admit(make_message(client_id="c1"))).outcome == "stored"


async def test_records_outlive_a_day(ledger: SendLedger, redis: Redis) -> None:
    message = make_message(client_id="c1")
    await ledger.admit(message)
    assert SENT_TTL_SECONDS >= 24 * 3600
    assert SENT_TTL_SECONDS - 5 <= await redis.ttl("sent:{u:ada}:c1") <= SENT_TTL_SECONDS
    await ledger.record(message)
    assert SENT_TTL_SECONDS - 5 <= await redis.ttl("sent:{u:ada}:c1") <= SENT_TTL_SECONDS


async def test_an_admitted_send_is_marked_delivered(ledger: SendLedger, redis: Redis) -> None:
    # The stream brings every stored message back; the app's own were broadcast already.
    message = make_message(client_id="c1")
    await ledger.admit(message)
    assert not await DeliveryMarks(redis).claim_delivery(message)


# --- the rate limit (GCRA) --------------------------------------------------------------


async def test_a_burst_is_admitted_then_limited(redis: Redis) -> None:
    ledger = SendLedger(redis, rate_per_second=10, burst=3)
    outcomes = [(await ledger.admit(make_message(client_id=f"c{n}"))) for n in range(4)]
    assert [result.outcome for result in outcomes] == ["admitted"] * 3 + ["limited"]
    assert 0 < outcomes[3].retry_after_ms <= 100


async def test_a_limited_send_is_admitted_after_its_wait_and_not_recorded(redis: Redis) -> None:
    ledger = SendLedger(redis, rate_per_second=20, burst=1)
    assert (await ledger.admit(make_message(client_id="c1"))).outcome == "admitted"
    limited = await ledger.admit(make_message(client_id="c2"))
    assert limited.outcome == "limited"
    await asyncio.sleep(limited.retry_after_ms / 1000 + 0.01)
    assert (await ledger.admit(make_message(client_id="c2"))).outcome == "admitted"


async def test_the_limit_is_per_user(redis: Redis) -> None:
    ledger = SendLedger(redis, rate_per_second=1, burst=1)
    assert (await ledger.admit(make_message(username="ada", client_id="c1"))).outcome == (
        "admitted"
    )
    assert (await ledger.admit(make_message(username="ADA", client_id="c2"))).outcome == ("limited")
    assert (await ledger.admit(make_message(username="bob", client_id="c1"))).outcome == (
        "admitted"
    )


async def test_the_sustained_rate_is_the_configured_one(redis: Redis) -> None:
    ledger = SendLedger(redis, rate_per_second=1, burst=2)
    for n in range(2):
        await ledger.admit(make_message(client_id=f"c{n}"))
    limited = await ledger.admit(make_message(client_id="c2"))
    # Two sends used the whole burst: the next slot opens one interval (1 s) later.
    assert 900 < limited.retry_after_ms <= 1000


async def test_a_known_client_id_is_answered_even_when_limited(redis: Redis) -> None:
    # A retry of a stored message must get its ack, rate limit or not.
    ledger = SendLedger(redis, rate_per_second=1, burst=1)
    message = make_message(client_id="c1")
    await ledger.admit(message)
    await ledger.record(message)
    assert (await ledger.admit(make_message(client_id="c2"))).outcome == "limited"
    assert (await ledger.admit(make_message(client_id="c1"))).outcome == "stored"


# --- delivered marks ----------------------------------------------------------------------


MESSAGE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


async def test_a_delivery_is_claimed_once(redis: Redis) -> None:
    marks = DeliveryMarks(redis)
    assert await marks.claim_delivery(make_message(message_id=MESSAGE_ID))
    assert not await marks.claim_delivery(make_message(message_id=MESSAGE_ID))
    assert await marks.claim_delivery(make_message(room="random", message_id=MESSAGE_ID))


async def test_an_unclaimed_delivery_can_be_claimed_again(redis: Redis) -> None:
    marks = DeliveryMarks(redis)
    await marks.claim_delivery(make_message(message_id=MESSAGE_ID))
    await marks.unclaim_delivery(make_message(message_id=MESSAGE_ID))
    assert await marks.claim_delivery(make_message(message_id=MESSAGE_ID))


async def test_delivered_marks_outlive_the_stream(redis: Redis) -> None:
    await DeliveryMarks(redis).claim_delivery(make_message(message_id=MESSAGE_ID))
    ttl = await redis.ttl(f"delivered:{{u:ada}}:general:{MESSAGE_ID}")
    assert 24 * 3600 < DELIVERED_TTL_SECONDS - 5 <= ttl <= DELIVERED_TTL_SECONDS
