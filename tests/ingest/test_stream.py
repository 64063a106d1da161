"""Scenario 2: items written straight into the messages table reach the room's clients live,
exactly once, through the in-app stream consumer and through the Lambda runner."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import boto3
import httpx
import pytest

from parley.aws.stream import handle_records
from parley.config import Settings
from parley.ids import new_ulid
from parley.ingest.producer import put_message
from tests.conftest import StartApp, settings_for
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import on_redis_db, redis_of, register_and_login

ARRIVAL = 20.0  # generous: a lease takeover alone may take 10 s


def on_db(base_env: dict[str, str], db: int) -> dict[str, str]:
    return on_redis_db(base_env, db)


async def wait_consumer_started(env: dict[str, str]) -> None:
    """The first consumer of a deployment starts at "now"; wait until it has (on a cluster,
    the scan covers every primary)."""
    redis = redis_of(env)
    try:
        for _ in range(200):
            async for key in redis.scan_iter("ingest:checkpoint:*"):
                if await redis.hexists(key, "*started*"):
                    return
            await asyncio.sleep(0.1)
        raise AssertionError("stream consumer did not start")
    finally:
        await redis.aclose()


async def chat_client(server: AppServer, room: str) -> ChatClient:
    async with httpx.AsyncClient(base_url=server.url) as http:
        cookie = await register_and_login(http, f"u_{secrets.token_hex(4)}")
        http.cookies.set("parley_session", cookie)
        response = await http.post("/api/rooms", json={"name": room})
        assert response.status_code in (201, 409)
    client = ChatClient(server, cookie)
    await client.connect()
    await client.join(room)
    return client


def dynamodb_client(settings: Settings) -> Any:
    return boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "parley-test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "parley-test"),
    )


@pytest.fixture
def room() -> str:
    return f"stream-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def reader_env(base_env: dict[str, str]) -> dict[str, str]:
    return on_db(base_env, 6)


@pytest.fixture(scope="module")
def sockets_only(start_server: StartApp) -> AppServer:
    """An instance that serves sockets and does not read the stream."""
    return start_server(redis_db=6, PARLEY_STREAM_CONSUMER="false")


@pytest.fixture(scope="module")
async def stream_reader(start_server: StartApp, reader_env: dict[str, str]) -> AppServer:
    server = start_server(redis_db=6)
    await wait_consumer_started(reader_env)
    return server


@pytest.fixture
async def client(
    sockets_only: AppServer, stream_reader: AppServer, room: str
) -> AsyncIterator[ChatClient]:
    client = await chat_client(sockets_only, room)
    yield client
    await client.close()


async def test_put_item_reaches_a_connected_client(
    client: ChatClient, settings: Settings, room: str
) -> None:
    started = time.monotonic()
    stored = await asyncio.to_thread(
        put_message, settings, room=room, username="outsider", text="  from outside  "
    )
    received = await client.next("message", timeout=ARRIVAL)
    delay = time.monotonic() - started
    assert received == {**stored, "text": "from outside"}
    assert received["clientId"] is None
    print(f"put_item -> client: {delay * 1000:.0f} ms")


async def test_an_app_sent_message_arrives_exactly_once(client: ChatClient, room: str) -> None:
    ack = await client.send("through the app", room)
    assert await client.next("message") == ack["message"]
    await asyncio.sleep(1.5)  # several stream polls later
    assert client.drain("message") == []


async def test_missing_created_at_comes_from_the_id(
    client: ChatClient, settings: Settings, room: str
) -> None:
    message_id = new_ulid()
    await asyncio.to_thread(
        dynamodb_client(settings).put_item,
        TableName=f"{settings.table_prefix}messages",
        Item={
            "room": {"S": room},
            "id": {"S": message_id},
            "username": {"S": "cli"},
            "text": {"S": "bare"},
        },
    )
    received = await client.next("message", timeout=ARRIVAL)
    assert received["id"] == message_id
    assert received["createdAt"].startswith(time.strftime("%Y-%m-%dT", time.gmtime()))


@pytest.mark.parametrize(
    "item",
    [
        {"username": {"S": "x"}, "text": {"S": "no id"}},
        {"id": {"S": "not-a-ulid"}, "username": {"S": "x"}, "text": {"S": "bad id"}},
        {"id": "ULID", "text": {"S": "no username"}},
        {"id": "ULID", "username": {"S": "x"}, "text": {"S": "   "}},
        {"id": "ULID", "username": {"S": "x"}, "text": {"S": "y" * 4001}},
        {"id": "ULID", "username": {"S": "x"}, "text": {"N": "42"}},
    ],
)
async def test_malformed_items_are_skipped_and_the_next_good_one_arrives(
    client: ChatClient, settings: Settings, room: str, item: dict[str, Any]
) -> None:
    item = {"room": {"S": room}, **item}
    if item.get("id") == "ULID":
        item["id"] = {"S": new_ulid()}
    elif "id" not in item:
        item["id"] = {"S": f"zz-{secrets.token_hex(4)}"}
    table = f"{settings.table_prefix}messages"
    await asyncio.to_thread(dynamodb_client(settings).put_item, TableName=table, Item=item)
    good = await asyncio.to_thread(put_message, settings, room=room, username="ok", text="good")
    assert await client.next("message", timeout=ARRIVAL) == good
    await asyncio.sleep(0.5)
    assert client.drain("message") == []


async def test_items_written_while_the_consumer_was_down_arrive_once_in_order(
    start_server: StartApp,
    sockets_only: AppServer,
    stream_reader: AppServer,
    settings: Settings,
    room: str,
) -> None:
    client = await chat_client(sockets_only, room)
    try:
        assert stream_reader.stop() == 0
        written = [
            await asyncio.to_thread(
                put_message, settings, room=room, username="offline", text=f"while down {i}"
            )
            for i in range(3)
        ]
        await asyncio.sleep(0.5)
        assert client.drain("message") == []
        start_server(redis_db=6)  # resumes from the checkpoint
        received = [await client.next("message", timeout=ARRIVAL) for _ in written]
        assert received == written
        await asyncio.sleep(1.0)
        assert client.drain("message") == []
    finally:
        await client.close()


async def test_two_consuming_instances_deliver_each_item_once_per_client(
    start_server: StartApp, base_env: dict[str, str], settings: Settings, room: str
) -> None:
    first = start_server(redis_db=7)
    await wait_consumer_started(on_db(base_env, 7))
    second = start_server(redis_db=7)
    clients = [await chat_client(first, room), await chat_client(second, room)]
    try:
        written = [
            await asyncio.to_thread(
                put_message, settings, room=room, username="twice?", text=f"n{i}"
            )
            for i in range(4)
        ]
        for client in clients:
            assert [await client.next("message", timeout=ARRIVAL) for _ in written] == written
        # The lease holder dies without a goodbye; the other instance takes over.
        first.process.kill()
        first.process.wait()
        survivor = clients[1]
        late = await asyncio.to_thread(
            put_message, settings, room=room, username="after", text="takeover"
        )
        assert await survivor.next("message", timeout=ARRIVAL) == late
        await asyncio.sleep(1.0)
        assert survivor.drain("message") == []
    finally:
        for client in clients:
            await client.close()


# --- changes made outside the app (rich messages) -------------------------------------


def outside_update(settings: Settings, room: str, message_id: str, text: str) -> None:
    dynamodb_client(settings).update_item(
        TableName=f"{settings.table_prefix}messages",
        Key={"room": {"S": room}, "id": {"S": message_id}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "text"},
        ExpressionAttributeValues={":t": {"S": text}},
    )


def outside_delete(settings: Settings, room: str, message_id: str) -> None:
    dynamodb_client(settings).delete_item(
        TableName=f"{settings.table_prefix}messages",
        Key={"room": {"S": room}, "id": {"S": message_id}},
    )


async def test_an_outside_edit_and_removal_arrive_once(
    client: ChatClient, settings: Settings, room: str
) -> None:
    sent = (await client.send("typo heer", room))["message"]
    await client.next("message")
    await asyncio.to_thread(outside_update, settings, room, sent["id"], "  typo here ")
    edited = await client.next("message_updated", timeout=ARRIVAL)
    assert edited == {**sent, "text": "typo here", "editedAt": edited["editedAt"]}
    assert edited["editedAt"] is not None
    assert edited["editedAt"] >= sent["createdAt"]
    await asyncio.to_thread(outside_delete, settings, room, sent["id"])
    removed = await client.next("message_updated", timeout=ARRIVAL)
    assert removed == {**sent, "text": "", "deleted": True, "clientId": None}
    await asyncio.sleep(1.5)  # several stream polls later
    assert client.drain("message_updated") == []


async def test_an_outside_write_that_changes_nothing_shown_is_not_delivered(
    client: ChatClient, settings: Settings, room: str
) -> None:
    sent = (await client.send("same", room))["message"]
    await client.next("message")
    await asyncio.to_thread(outside_update, settings, room, sent["id"], "same")
    await asyncio.to_thread(outside_update, settings, room, sent["id"], "different")
    # The first one is skipped: the next thing to arrive is the second.
    assert (await client.next("message_updated", timeout=ARRIVAL))["text"] == "different"


async def test_changes_made_through_the_app_arrive_once(client: ChatClient, room: str) -> None:
    sent = (await client.send("edit me", room))["message"]
    parent = (await client.send("reply to me", room))["message"]
    reply = await client.call(
        "message", {"room": room, "text": "re", "clientId": new_ulid(), "replyTo": parent["id"]}
    )
    for _ in range(3):
        await client.next("message")
    changes: list[tuple[str, dict[str, Any]]] = [
        ("edit", {"id": sent["id"], "text": "edited"}),
        ("react", {"id": sent["id"], "emoji": "👍", "on": True}),
        ("react", {"id": sent["id"], "emoji": "👍", "on": False}),  # and its bookkeeping
        ("delete", {"id": parent["id"]}),  # and the reply's quote
    ]
    acks = [await client.call(event, {"room": room, **data}) for event, data in changes]
    assert all(ack["ok"] for ack in acks), acks
    expected = [ack["message"] for ack in acks]
    expected.append({**reply["message"], "replyTo": {**reply["message"]["replyTo"], "text": ""}})
    assert [await client.next("message_updated") for _ in expected] == expected
    await asyncio.sleep(1.5)  # several stream polls later
    assert client.drain("message_updated") == []


# --- mentions in messages written outside the app ---------------------------------------


async def member(server: AppServer, room: str, *, create: bool = False) -> tuple[str, ChatClient]:
    """A new account that creates the room (its owner) or joins it over HTTP, with a socket
    open (in no room: `mention` comes on the user's own channel)."""
    name = f"m_{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=server.url) as http:
        cookie = await register_and_login(http, name)
        http.cookies.set("parley_session", cookie)
        if create:
            response = await http.post("/api/rooms", json={"name": room})
        else:
            response = await http.post(f"/api/rooms/{room}/join")
        assert response.status_code in (200, 201), response.text
    client = ChatClient(server, cookie)
    await client.connect()
    return name, client


async def outsider(server: AppServer) -> tuple[str, ChatClient]:
    """An account in no room but general, with a socket open."""
    name = f"o_{secrets.token_hex(4)}"
    async with httpx.AsyncClient(base_url=server.url) as http:
        client = ChatClient(server, await register_and_login(http, name))
    await client.connect()
    return name, client


async def test_an_outside_message_mentions_the_members_it_names_once(
    sockets_only: AppServer, stream_reader: AppServer, settings: Settings, room: str
) -> None:
    named, named_socket = await member(sockets_only, room, create=True)
    stranger, stranger_socket = await outsider(sockets_only)
    try:
        stored = await asyncio.to_thread(
            put_message, settings, room=room, username="bot", text=f"@{named} and @{stranger}?"
        )
        assert await named_socket.next("mention", timeout=ARRIVAL) == {
            "room": room,
            "message": {**stored, "mentions": [named]},
        }
        await asyncio.sleep(1.5)  # several stream polls later
        assert named_socket.drain("mention") == []
        assert stranger_socket.drain("mention") == []  # not a member: not mentioned
    finally:
        await named_socket.close()
        await stranger_socket.close()


async def test_an_app_sent_mention_is_told_once(
    sockets_only: AppServer, stream_reader: AppServer, room: str
) -> None:
    """The app's send tells the mentioned member; the stream consumer, which skips the app's
    own writes, tells nobody again."""
    _, sender = await member(sockets_only, room, create=True)
    named, named_socket = await member(sockets_only, room)
    try:
        await sender.join(room)
        ack = await sender.send(f"hi @{named}", room)
        assert ack["ok"] is True, ack
        mention = await named_socket.next("mention", timeout=ARRIVAL)
        assert mention == {"room": room, "message": ack["message"]}
        await asyncio.sleep(1.5)  # several stream polls later
        assert named_socket.drain("mention") == []
    finally:
        await sender.close()
        await named_socket.close()


def test_parley_ingest_command(base_env: dict[str, str], tables: object) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "parley",
            "ingest",
            "--room",
            f"cli-{secrets.token_hex(3)}",
            "--user",
            "cli-bot",
            "hello from the CLI",
        ],
        env={**os.environ, **base_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stored ")


# --- the Lambda runner -------------------------------------------------------------------


def stream_records(settings: Settings, room: str) -> list[dict[str, Any]]:
    """This room's records as the stream holds them, shaped as Lambda delivers them."""
    dynamodb = dynamodb_client(settings)
    arn = dynamodb.describe_table(TableName=f"{settings.table_prefix}messages")["Table"][
        "LatestStreamArn"
    ]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        aws_access_key_id="parley-test",
        aws_secret_access_key="parley-test",
    )
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    mine = [r for r in records if r["dynamodb"]["Keys"]["room"]["S"] == room]
    return [
        {
            **r,
            "eventSource": "aws:dynamodb",
            "eventSourceARN": arn,
            "awsRegion": settings.aws_region,
        }
        for r in mine
    ]


@pytest.fixture(scope="module")
def lambda_sockets(start_server: StartApp) -> AppServer:
    return start_server(redis_db=8, PARLEY_STREAM_CONSUMER="false")


async def test_lambda_delivers_a_batch_and_skips_a_bad_record(
    lambda_sockets: AppServer, base_env: dict[str, str], settings: Settings, room: str
) -> None:
    client = await chat_client(lambda_sockets, room)
    try:
        good = [
            await asyncio.to_thread(
                put_message, settings, room=room, username="lambda", text=f"l{i}"
            )
            for i in range(2)
        ]
        await asyncio.to_thread(
            dynamodb_client(settings).put_item,
            TableName=f"{settings.table_prefix}messages",
            Item={"room": {"S": room}, "id": {"S": new_ulid()}, "text": {"S": "no username"}},
        )
        good.append(
            await asyncio.to_thread(put_message, settings, room=room, username="lambda", text="l2")
        )
        records = sorted(
            stream_records(settings, room), key=lambda r: r["dynamodb"]["Keys"]["id"]["S"]
        )
        assert len(records) == 4
        lambda_settings = settings_for(on_db(base_env, 8))
        response = await handle_records(records, lambda_settings)
        assert response == {"batchItemFailures": []}
        assert [await client.next("message", timeout=ARRIVAL) for _ in good] == good
        # A retried batch (Lambda retries whole batches) delivers nothing twice.
        assert await handle_records(records, lambda_settings) == {"batchItemFailures": []}
        await asyncio.sleep(0.5)
        assert client.drain("message") == []
    finally:
        await client.close()


async def test_lambda_tells_the_members_an_outside_message_mentions_once(
    lambda_sockets: AppServer, base_env: dict[str, str], settings: Settings, room: str
) -> None:
    named, named_socket = await member(lambda_sockets, room, create=True)
    try:
        stored = await asyncio.to_thread(
            put_message, settings, room=room, username="lambda", text=f"ping @{named.upper()}"
        )
        lambda_settings = settings_for(on_db(base_env, 8))
        records = stream_records(settings, room)
        assert await handle_records(records, lambda_settings) == {"batchItemFailures": []}
        assert await named_socket.next("mention", timeout=ARRIVAL) == {
            "room": room,
            "message": {**stored, "mentions": [named]},
        }
        # A retried batch tells nobody twice.
        assert await handle_records(records, lambda_settings) == {"batchItemFailures": []}
        await asyncio.sleep(0.5)
        assert named_socket.drain("mention") == []
    finally:
        await named_socket.close()


async def test_lambda_reports_the_first_undelivered_record(
    base_env: dict[str, str], settings: Settings, room: str
) -> None:
    await asyncio.to_thread(put_message, settings, room=room, username="lambda", text="unlucky")
    records = stream_records(settings, room)
    unreachable = {**base_env, "PARLEY_REDIS_URL": "redis://127.0.0.1:1/0"}
    response = await handle_records(records, settings_for(unreachable))
    assert response == {
        "batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    }


def test_lambda_handler_entry_point(
    base_env: dict[str, str], settings: Settings, room: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.aws.stream import handler

    put_message(settings, room=room, username="lambda", text="via handler")
    for key, value in on_db(base_env, 8).items():
        monkeypatch.setenv(key, value)
    assert handler({"Records": stream_records(settings, room)}) == {"batchItemFailures": []}
