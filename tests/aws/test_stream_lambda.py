"""The stream Lambda with rich messages: a batch of the stream's real records, shaped as Lambda
delivers them, in which items are changed and removed straight in DynamoDB and through the app.
Outside changes reach the room once as `message_updated`; the app's own are not delivered
again; a retried batch delivers nothing twice."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from parley.aws.stream import handle_records
from parley.config import Settings
from parley.ingest.producer import put_message
from tests.conftest import StartApp, settings_for
from tests.ingest.test_stream import (
    ARRIVAL,
    chat_client,
    on_db,
    outside_delete,
    outside_update,
    stream_records,
)
from tests.servers import AppServer

LAMBDA_REDIS_DB = 8  # the Lambda's Redis database is the sockets instance's


@pytest.fixture(scope="module")
def sockets(start_server: StartApp) -> AppServer:
    return start_server(redis_db=LAMBDA_REDIS_DB, PARLEY_STREAM_CONSUMER="false")


async def test_lambda_delivers_outside_edits_and_removals_once(
    sockets: AppServer, base_env: dict[str, str], settings: Settings
) -> None:
    room = f"lambda-rich-{secrets.token_hex(4)}"
    client = await chat_client(sockets, room)
    try:
        outside = await asyncio.to_thread(
            put_message, settings, room=room, username="lambda", text="frist"
        )
        sent = (await client.send("through the app", room))["message"]
        await client.next("message")
        app_edit = await client.call(
            "edit", {"room": room, "id": sent["id"], "text": "edited in the app"}
        )
        assert await client.next("message_updated") == app_edit["message"]
        await asyncio.to_thread(outside_update, settings, room, outside["id"], "first")
        await asyncio.to_thread(outside_delete, settings, room, sent["id"])
        records = stream_records(settings, room)
        assert [r["eventName"] for r in records] == [
            "INSERT",
            "INSERT",
            "MODIFY",
            "MODIFY",
            "REMOVE",
        ]
        lambda_settings = settings_for(on_db(base_env, LAMBDA_REDIS_DB))
        assert await handle_records(records, lambda_settings) == {"batchItemFailures": []}
        assert await client.next("message", timeout=ARRIVAL) == outside
        edited = await client.next("message_updated", timeout=ARRIVAL)
        assert edited == {**outside, "text": "first", "editedAt": edited["editedAt"]}
        assert edited["editedAt"] is not None
        removed = await client.next("message_updated", timeout=ARRIVAL)
        assert removed == {**app_edit["message"], "text": "", "deleted": True, "clientId": None,
                           "editedAt": None}  # fmt: skip
        # A retried batch (Lambda retries whole batches) delivers nothing twice.
        assert await handle_records(records, lambda_settings) == {"batchItemFailures": []}
        await asyncio.sleep(0.5)
        assert client.drain("message") == []
        assert client.drain("message_updated") == []
    finally:
        await client.close()
