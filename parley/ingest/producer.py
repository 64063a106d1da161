"""`parley ingest`: an outside producer's write, straight into the messages table with boto3,
bypassing the app; the stream pipeline is what brings it to the room's clients."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from parley.config import Settings
from parley.ids import iso_utc, new_ulid
from parley.models import MessageJSON
from parley.storage.dynamo import CLIENT_CONFIG, TableNames, local_credentials


def put_message(settings: Settings, *, room: str, username: str, text: str) -> MessageJSON:
    message_id = new_ulid()
    created_at = iso_utc(datetime.now(UTC))
    client = boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        config=CLIENT_CONFIG,
        **local_credentials(settings),
    )
    client.put_item(
        TableName=TableNames.with_prefix(settings.table_prefix).messages,
        Item={
            "room": {"S": room},
            "id": {"S": message_id},
            "username": {"S": username},
            "text": {"S": text},
            "createdAt": {"S": created_at},
        },
    )
    return {
        "id": message_id,
        "room": room,
        "username": username,
        "text": text,
        "createdAt": created_at,
        "clientId": None,
    }
