"""The message path's PutItem without botocore's per-call machinery: signed as botocore signs,
answered and refused as botocore answers, retried as CLIENT_CONFIG says."""

from __future__ import annotations

import calendar
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from aiobotocore.credentials import AioCredentials
from aiohttp import web
from aiohttp.test_utils import TestServer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from parley.config import Settings
from parley.storage.direct import CONTENT_TYPE, DirectDynamo, Signer
from parley.storage.dynamo import DynamoClient, StorageUnavailable, TableNames, open_direct
from parley.storage.messages import MessageStore, to_item
from tests.unit.support import make_message, new_name

NOW = 1_764_500_000.0  # 2025-11-30T10:53:20Z


@pytest.mark.parametrize("token", [None, "session-token"])
def test_the_signature_is_botocores(token: str | None) -> None:
    body = orjson.dumps({"TableName": "t", "Item": {"id": {"S": "é"}}})
    target = "DynamoDB_20120810.PutItem"
    request = AWSRequest(
        method="POST",
        url="https://dynamodb.eu-west-1.amazonaws.com/",
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": target},
    )
    SigV4Auth(Credentials("AKID", "secret", token), "dynamodb", "eu-west-1").add_auth(request)
    stamp = request.headers["X-Amz-Date"]  # botocore signs at its clock's time

    ours = Signer(host="dynamodb.eu-west-1.amazonaws.com", region="eu-west-1").headers(
        target,
        body,
        AioCredentials("AKID", "secret", token),
        calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")),
    )

    assert ours["X-Amz-Date"] == stamp
    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == request.headers.get("X-Amz-Security-Token")


def test_the_signing_key_is_derived_once_a_day() -> None:
    signer = Signer(host="h", region="r")
    credentials = AioCredentials("AKID", "secret")
    first = signer.headers("T", b"{}", credentials, NOW)["Authorization"]
    same_day = signer.headers("T", b"{}", credentials, NOW)["Authorization"]
    next_day = signer.headers("T", b"{}", credentials, NOW + 86_400)["Authorization"]
    assert first == same_day
    assert "/20251201/r/dynamodb/aws4_request" in next_day


# --- against the session's DynamoDB endpoint ---------------------------------------------------


@pytest.fixture
async def direct(dynamo: DynamoClient, unit_settings: Settings) -> AsyncIterator[DirectDynamo]:
    async with open_direct(unit_settings, dynamo) as client:
        yield client


async def test_a_message_put_directly_reads_back(
    dynamo: DynamoClient, tables: TableNames, direct: DirectDynamo
) -> None:
    store = MessageStore(dynamo, tables.messages, direct=direct)
    message = make_message(room=new_name("room"), text="héllo 👋")
    await store.put(message)
    await store.put(message)  # again: the condition refuses it, and that is no error
    assert await store.get(message.room, message.id) == message


async def test_a_refusal_is_botocores_client_error(
    dynamo: DynamoClient, tables: TableNames, direct: DirectDynamo
) -> None:
    message = make_message(room=new_name("room"))
    params = {
        "TableName": tables.messages,
        "Item": to_item(message),
        "ConditionExpression": "attribute_not_exists(id)",
    }
    assert await direct.call("PutItem", params) == {}
    with pytest.raises(ClientError) as refusal:
        await direct.call("PutItem", params)
    assert refusal.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refusal.value.operation_name == "PutItem"

    with pytest.raises(ClientError) as missing:
        await direct.call("PutItem", {**params, "TableName": "parley-no-such-table"})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


# --- retries, against a local HTTP server -----------------------------------------------------


Answer = Callable[[int], web.Response]


async def serving(answer: Answer) -> tuple[TestServer, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({"headers": dict(request.headers), "body": await request.read()})
        return answer(len(seen))

    app = web.Application()
    app.router.add_post("/", handle)
    server = TestServer(app)
    await server.start_server()
    return server, seen


def direct_to(url: str) -> DirectDynamo:
    return DirectDynamo(
        endpoint_url=url,
        region="us-east-1",
        credentials=AioCredentials("AKID", "secret"),
        connect_timeout=2,
        read_timeout=5,
        max_attempts=2,
        max_connections=4,
        backoff=lambda: 0.0,
    )


def json_answer(status: int, payload: dict[str, Any], *, crc: int | None = None) -> web.Response:
    body = orjson.dumps(payload)
    return web.Response(
        status=status,
        body=body,
        content_type=CONTENT_TYPE,
        headers={"x-amz-crc32": str(zlib.crc32(body) if crc is None else crc)},
    )


THROTTLED = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow"}


@pytest.mark.parametrize(
    "first",
    [
        lambda: json_answer(500, {"__type": "InternalServerError", "message": "oops"}),
        lambda: json_answer(400, THROTTLED),
        lambda: json_answer(200, {}, crc=1),  # damaged on the way
    ],
    ids=["5xx", "throttled", "crc32"],
)
async def test_a_transient_failure_is_tried_once_more(first: Callable[[], web.Response]) -> None:
    server, seen = await serving(lambda n: first() if n == 1 else json_answer(200, {"ok": 1}))
    client = direct_to(str(server.make_url("/")))
    try:
        assert await client.call("PutItem", {"TableName": "t"}) == {"ok": 1}
    finally:
        await client.close()
        await server.close()
    assert len(seen) == 2
    assert seen[1]["headers"]["X-Amz-Target"] == "DynamoDB_20120810.PutItem"
    assert orjson.loads(seen[1]["body"]) == {"TableName": "t"}


async def test_two_attempts_at_most_then_the_last_error() -> None:
    server, seen = await serving(lambda n: json_answer(400, THROTTLED))
    client = direct_to(str(server.make_url("/")))
    try:
        with pytest.raises(ClientError) as refusal:
            await client.call("PutItem", {})
    finally:
        await client.close()
        await server.close()
    assert len(seen) == 2
    assert refusal.value.response["Error"] == {"Code": "ThrottlingException", "Message": "slow"}


async def test_a_refusal_is_not_retried() -> None:
    validation = {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}
    server, seen = await serving(lambda n: json_answer(400, validation))
    client = direct_to(str(server.make_url("/")))
    try:
        with pytest.raises(ClientError) as refusal:
            await client.call("PutItem", {})
    finally:
        await client.close()
        await server.close()
    assert len(seen) == 1
    assert refusal.value.response["Error"]["Code"] == "ValidationException"


async def test_no_endpoint_is_storage_unavailable() -> None:
    server, _ = await serving(lambda n: json_answer(200, {}))
    url = str(server.make_url("/"))
    await server.close()  # nothing listens there any more
    client = direct_to(url)
    try:
        with pytest.raises(EndpointConnectionError):
            await client.call("PutItem", {})
        store = MessageStore(None, "t", direct=client)
        with pytest.raises(StorageUnavailable):
            await store.put(make_message())
    finally:
        await client.close()


async def test_a_dropped_answer_is_a_closed_connection() -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app = web.Application()
    app.router.add_post("/", drop)
    server = TestServer(app)
    await server.start_server()
    client = direct_to(str(server.make_url("/")))
    try:
        with pytest.raises(ConnectionClosedError):
            await client.call("PutItem", {})
    finally:
        await client.close()
        await server.close()
