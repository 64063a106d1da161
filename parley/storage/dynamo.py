"""The DynamoDB connection: client factory, table names and table creation."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import aioboto3
from aiobotocore.credentials import AioCredentials
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from parley.config import Settings
from parley.storage.direct import DirectDynamo

log = logging.getLogger(__name__)

DynamoClient = Any  # aiobotocore's generated client has no static type

# Fail fast: a chat send must learn within seconds that the database is unreachable, so the
# sender gets ok:false instead of a hanging ack (botocore's defaults wait 60 s per attempt).
# One retry only: with jittered backoff, four attempts against a dead endpoint took up to 6 s,
# and a failed send also asks once whether its write landed. The client retries with its
# clientId anyway, so a longer wait here would only delay the "failed, retry" it shows.
CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"total_max_attempts": 2, "mode": "standard"},
    max_pool_connections=50,
)


class StorageUnavailable(Exception):
    """DynamoDB did not answer or refused the call; the caller answers 503 / ok:false."""


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, BotoCoreError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "TransactionCanceledException":
            # A condition refused it: an answer. Otherwise (a conflicting transaction under
            # way, throttling) it is worth trying again shortly.
            return "ConditionalCheckFailed" not in cancellation_reasons(exc)
        return code not in {"ConditionalCheckFailedException", "ValidationException"}
    return False


def is_conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def cancellation_reasons(exc: ClientError) -> list[str]:
    """Per item of a cancelled TransactWriteItems, in order: "None" for an item that was not
    the cause, "ConditionalCheckFailed" for one whose condition refused it, ..."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Turn "DynamoDB did not answer" into StorageUnavailable; let every other error through."""
    try:
        yield
    except Exception as exc:
        if is_unavailable(exc):
            raise StorageUnavailable(f"DynamoDB: {exc}") from exc
        raise


@dataclass(frozen=True)
class TableNames:
    users: str
    rooms: str
    messages: str
    members: str

    @classmethod
    def with_prefix(cls, prefix: str) -> TableNames:
        return cls(
            users=f"{prefix}users",
            rooms=f"{prefix}rooms",
            messages=f"{prefix}messages",
            members=f"{prefix}members",
        )

    def all(self) -> tuple[str, ...]:
        return (self.users, self.rooms, self.messages, self.members)


# The rooms table's sparse index of public rooms by name (docs/design/conversations.md), and
# the members table's sparse index of each user's memberships (bans are not in it).
DIRECTORY_INDEX = "directory"
BY_USER_INDEX = "by-user"


def local_credentials(settings: Settings) -> dict[str, str]:
    # A local endpoint (moto, DynamoDB Local) accepts any key, but botocore refuses to sign
    # without one; AWS itself always goes through the normal credential chain.
    if settings.dynamodb_endpoint and not os.environ.get("AWS_ACCESS_KEY_ID"):
        return {"aws_access_key_id": "parley-local", "aws_secret_access_key": "parley-local"}
    return {}


@asynccontextmanager
async def open_client(settings: Settings, service: str = "dynamodb") -> AsyncIterator[DynamoClient]:
    session = aioboto3.Session()
    async with session.client(
        service,
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        config=CLIENT_CONFIG,
        **local_credentials(settings),
    ) as client:
        yield client


@asynccontextmanager
async def open_direct(settings: Settings, client: DynamoClient) -> AsyncIterator[DirectDynamo]:
    """The message path's PutItem without botocore's per-call machinery (storage/direct.py),
    to the endpoint and region `client` resolved, with the same credentials and CLIENT_CONFIG."""
    explicit = local_credentials(settings)
    if explicit:
        credentials: Any = AioCredentials(
            explicit["aws_access_key_id"], explicit["aws_secret_access_key"]
        )
    else:
        credentials = await get_session().get_credentials()
        if credentials is None:
            raise StorageUnavailable("DynamoDB: no AWS credentials found")
    direct = DirectDynamo(
        endpoint_url=client.meta.endpoint_url,
        region=client.meta.region_name,
        credentials=credentials,
        connect_timeout=float(CLIENT_CONFIG.connect_timeout),
        read_timeout=float(CLIENT_CONFIG.read_timeout),
        max_attempts=int(CLIENT_CONFIG.retries["total_max_attempts"]),
        max_connections=int(CLIENT_CONFIG.max_pool_connections),
    )
    try:
        yield direct
    finally:
        await direct.close()


_DIRECTORY_ATTRIBUTES = [
    {"AttributeName": "listed", "AttributeType": "S"},
    {"AttributeName": "nameKey", "AttributeType": "S"},
]
DIRECTORY_INDEX_SPEC: dict[str, Any] = {
    "IndexName": DIRECTORY_INDEX,
    "KeySchema": [
        {"AttributeName": "listed", "KeyType": "HASH"},
        {"AttributeName": "nameKey", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}


def _table_specs(names: TableNames) -> list[dict[str, Any]]:
    string = "S"
    return [
        {
            "TableName": names.users,
            "KeySchema": [{"AttributeName": "username", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "username", "AttributeType": string}],
        },
        {
            "TableName": names.rooms,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "id", "AttributeType": string},
                *_DIRECTORY_ATTRIBUTES,
            ],
            "GlobalSecondaryIndexes": [DIRECTORY_INDEX_SPEC],
        },
        {
            "TableName": names.messages,
            "KeySchema": [
                {"AttributeName": "room", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": MESSAGES_ATTRIBUTES,
            "GlobalSecondaryIndexes": [CHANGES_INDEX_SPEC],
            "StreamSpecification": MESSAGES_STREAM,
        },
        {
            "TableName": names.members,
            "KeySchema": [
                {"AttributeName": "room", "KeyType": "HASH"},
                {"AttributeName": "user", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "room", "AttributeType": string},
                {"AttributeName": "user", "AttributeType": string},
                {"AttributeName": "memberOf", "AttributeType": string},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": BY_USER_INDEX,
                    "KeySchema": [
                        {"AttributeName": "memberOf", "KeyType": "HASH"},
                        {"AttributeName": "room", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        },
    ]


MESSAGES_ATTRIBUTES = [
    {"AttributeName": name, "AttributeType": "S"} for name in ("room", "id", "changedAt")
]
# The messages changed through the app, by room and change (storage/messages.py CHANGES_INDEX):
# sparse, as only a changed item has `changedAt`, so catching up reads the changes since a
# sync point whatever the room's size.
CHANGES_INDEX_SPEC: dict[str, Any] = {
    "IndexName": "changes",
    "KeySchema": [
        {"AttributeName": "room", "KeyType": "HASH"},
        {"AttributeName": "changedAt", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}
# Old images too: a REMOVE record carries only the keys otherwise (the tombstone it becomes
# needs the username), and an edit is told from another change by comparing the text.
MESSAGES_STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


async def upgrade_messages_table(client: DynamoClient, name: str) -> list[str]:
    """Bring a messages table made before rich messages up to date: add the changes index (it
    fills in the background; until then catch-up finds fewer changes). Its stream is not
    touched: a stream's view type cannot change, so new and old images mean turning it off
    and on, a new stream the Lambda's event source mapping must follow: an operator's step
    (docs/deploy.md, "Rich messages"). What was done, and what is left, for the log."""
    table = (await client.describe_table(TableName=name))["Table"]
    said: list[str] = []
    indexes = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    if CHANGES_INDEX_SPEC["IndexName"] not in indexes:
        await client.update_table(
            TableName=name,
            AttributeDefinitions=MESSAGES_ATTRIBUTES,
            GlobalSecondaryIndexUpdates=[{"Create": CHANGES_INDEX_SPEC}],
        )
        said.append(f"{name}: index {CHANGES_INDEX_SPEC['IndexName']} added")
    view = (table.get("StreamSpecification") or {}).get("StreamViewType")
    if view != MESSAGES_STREAM["StreamViewType"]:
        said.append(
            f"{name}: its stream has {view or 'no'} images, so changes made outside the app "
            "(edits, removals) are not delivered live: turn it to NEW_AND_OLD_IMAGES"
        )
    return said


async def create_missing_tables(client: DynamoClient, names: TableNames) -> list[str]:
    """Create whichever tables do not exist yet and wait until they are active."""
    existing: set[str] = set()
    paginator = client.get_paginator("list_tables")
    async for page in paginator.paginate():
        existing.update(page.get("TableNames", []))
    created = []
    for spec in _table_specs(names):
        if spec["TableName"] in existing:
            continue
        try:
            await client.create_table(BillingMode="PAY_PER_REQUEST", **spec)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        created.append(spec["TableName"])
    waiter = client.get_waiter("table_exists")
    for name in created:
        await waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    if names.messages in existing:
        for said in await upgrade_messages_table(client, names.messages):
            log.warning("messages table: %s", said)
    return created


async def ensure_directory_index(client: DynamoClient, names: TableNames) -> bool:
    """Add the rooms table's `directory` index to a table made before it existed; True when it
    was added (an online operation: DynamoDB backfills it while the table stays in use)."""
    described = await client.describe_table(TableName=names.rooms)
    indexes = described["Table"].get("GlobalSecondaryIndexes", [])
    if any(index["IndexName"] == DIRECTORY_INDEX for index in indexes):
        return False
    await client.update_table(
        TableName=names.rooms,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            *_DIRECTORY_ATTRIBUTES,
        ],
        GlobalSecondaryIndexUpdates=[{"Create": DIRECTORY_INDEX_SPEC}],
    )
    return True
