"""A message whose write lands after a newer one became visible (issue 16): instance B's
DynamoDB requests are held 1.5 s by a proxy, or a send is orphaned and taken over 5 s later.
A reader that saw the newer message, dropped, and catches up as docs/reference.md says (from
the newest id it saw minus the visibility bound, after the join's page) ends with the whole
history; catching up from the newest id itself would have skipped the late one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.models import Message
from parley.storage.sends import SendLedger
from tests.conftest import StartApp
from tests.delaying_proxy import DelayingProxy, delaying_proxy
from tests.faults.churn import (
    Reader,
    catch_up,
    catch_up_from,
    close_all,
    connect_reader,
    create_room,
    history,
    history_after,
    make_people,
)
from tests.servers import AppServer

DELAY_SECONDS = 1.5
LATER_MESSAGES = 60  # more than the join's page of 50: the page alone cannot hide the gap


@pytest.fixture(scope="module")
def slow_dynamodb(dynamodb_endpoint: str | None) -> Iterator[DelayingProxy]:
    if dynamodb_endpoint is None:
        pytest.skip("needs a local DynamoDB endpoint to put a proxy in front of")
    with delaying_proxy(dynamodb_endpoint) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def slow_instance(start_server: StartApp, slow_dynamodb: DelayingProxy) -> AppServer:
    """Instance B: every DynamoDB request it makes arrives 1.5 s late (once it is ready: its
    readiness check gives DynamoDB 2 s)."""
    server = start_server(PARLEY_DYNAMODB_ENDPOINT=slow_dynamodb.url)
    slow_dynamodb.delay = DELAY_SECONDS
    return server


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


LateSend = Callable[[Reader], Awaitable[dict[str, Any]]]


async def late_message_scenario(
    server: AppServer, late_server: AppServer, late_send: LateSend, label: str
) -> None:
    """The issue's scenario. `late_send` sends as the person connected to `late_server`: the
    message's id is drawn at once, its write lands late; it returns the ack."""
    people = await make_people(server, 3)
    room = await create_room(server, people[0][1], f"late {label} {secrets.token_hex(3)}")
    late_sender, quick_sender, c = (Reader(name, cookie, room) for name, cookie in people)
    await connect_reader(late_sender, late_server)
    await connect_reader(quick_sender, server)
    await connect_reader(c, server)

    late = asyncio.create_task(late_send(late_sender))
    await asyncio.sleep(0.2)  # its id is drawn
    assert quick_sender.client is not None
    s2 = await quick_sender.client.send("S2", room, client_id="s2")
    assert s2["ok"], s2
    await until(lambda: s2["message"]["id"] in c.seen, "C sees S2")
    assert c.client is not None
    await c.client.close()  # C drops
    newest_before_gap = max(c.seen)
    s1_ack = await late
    assert s1_ack["ok"], s1_ack
    s1 = s1_ack["message"]
    assert s1["id"] < s2["message"]["id"]  # an older id, visible later
    assert s1["id"] not in c.seen
    for n in range(LATER_MESSAGES):
        ack = await quick_sender.client.send(f"later {n}", room, client_id=f"later-{n}")
        assert ack["ok"], ack

    since = catch_up_from(c)  # before the join's page adds newer ids
    await connect_reader(c, server)  # the join's page: the latest 50
    read = await catch_up(c, server, since)
    truth = [m["id"] for m in await history(server, quick_sender.cookie, room)]
    old_way = await history_after(server, c.cookie, room, newest_before_gap)
    await close_all([late_sender, quick_sender, c])
    print(f"\n{label}: the catch-up read {read} messages, {len(old_way)} after the newest seen")
    assert s1["id"] not in [m["id"] for m in old_way]  # "after the newest seen" skips it
    assert sorted(c.seen) == truth
    assert truth.count(s1["id"]) == 1


async def test_a_slow_write_is_caught_up_on(app: AppServer, slow_instance: AppServer) -> None:
    async def through_slow_instance(sender: Reader) -> dict[str, Any]:
        assert sender.client is not None
        ack: dict[str, Any] = await sender.client.send("S1", sender.room, client_id="s1")
        return ack

    await late_message_scenario(app, slow_instance, through_slow_instance, "slow write")


async def test_an_orphaned_send_taken_over_is_caught_up_on(
    app: AppServer, slow_instance: AppServer, redis: Redis
) -> None:
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    orphans: list[Message] = []

    async def orphaned_then_retried(sender: Reader) -> dict[str, Any]:
        # What a process killed mid-send leaves: the clientId claimed with its message.
        message_id = new_ulid()
        orphan = Message(
            id=message_id,
            room=sender.room,
            username=sender.username,
            text="S1",
            created_at=iso_utc(ulid_datetime(message_id)),
            client_id="crash-1",
        )
        assert (await ledger.admit(orphan)).outcome == "admitted"
        orphans.append(orphan)
        assert sender.client is not None
        ack: dict[str, Any] = await sender.client.send("S1", sender.room, client_id="crash-1")
        return ack  # after the 5 s wait for the first copy, and a slow write

    # The retry goes to B (on A it would hold A's broadcasts of the room while it waits).
    await late_message_scenario(app, slow_instance, orphaned_then_retried, "orphaned send")
    assert len(orphans) == 1
