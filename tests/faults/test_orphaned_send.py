"""A sender's process dies between claiming a clientId and storing the message: the client's
retry, on another instance, finishes storing exactly that message, once."""

from __future__ import annotations

import secrets

import pytest
from redis.asyncio import Redis

from parley.config import Settings
from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.models import Message
from parley.storage.dynamo import TableNames, open_client
from parley.storage.messages import MessageStore
from parley.storage.sends import SendLedger
from tests.conftest import Connect, Signup
from tests.realtime.test_chat import create_room


@pytest.mark.parametrize("stored_before_death", [False, True])
async def test_a_retry_finishes_an_orphaned_send(
    signup: Signup,
    connect: Connect,
    redis: Redis,
    settings: Settings,
    stored_before_death: bool,
) -> None:
    person = await signup()
    sender, reader = await connect(person), await connect(await signup())
    room = await create_room(sender, f"orphan {secrets.token_hex(3)}")
    await sender.join(room)
    await reader.join(room)

    # What a process killed mid-send leaves behind: the clientId claimed with its message.
    message_id = new_ulid()
    orphan = Message(
        id=message_id,
        room=room,
        username=person.username,
        text="sent just before the crash",
        created_at=iso_utc(ulid_datetime(message_id)),
        client_id="crash-1",
    )
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    assert (await ledger.admit(orphan)).outcome == "admitted"
    if stored_before_death:
        async with open_client(settings) as dynamo:
            await MessageStore(dynamo, TableNames.with_prefix(settings.table_prefix).messages).put(
                orphan
            )

    ack = await sender.send("sent just before the crash", room, client_id="crash-1")
    assert ack == {"ok": True, "message": orphan.to_json()}
    assert await reader.next("message") == orphan.to_json()
    again = await sender.send("sent just before the crash", room, client_id="crash-1")
    assert again == ack
    history = await sender.call("join", {"room": room})
    assert [m["id"] for m in history["messages"]] == [message_id]
