"""`parley ingest`: an outside producer's write, straight into the messages table with boto3,
bypassing the app; the stream pipeline is what brings it to the room's clients."""

from __future__ import annotations

import boto3

from parley.config import Settings
from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.models import Message, MessageJSON
from parley.storage.dynamo import CLIENT_CONFIG, TableNames, local_credentials
from parley.storage.messages import to_item


def put_message(settings: Settings, *, room: str, username: str, text: str) -> MessageJSON:
    message_id = new_ulid()
    message = Message(
        id=message_id,
        room=room,
        username=username,
        text=text,
        created_at=iso_utc(ulid_datetime(message_id)),
    )
    client = boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        config=CLIENT_CONFIG,
        **local_credentials(settings),
    )
    client.put_item(
        TableName=TableNames.with_prefix(settings.table_prefix).messages, Item=to_item(message)
    )
    return message.to_json()
