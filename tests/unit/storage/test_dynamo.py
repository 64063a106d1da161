"""The DynamoDB connection: which failures mean "unavailable", table names and creation."""

from __future__ import annotations

import secrets

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from parley.config import load_settings
from parley.storage.dynamo import (
    DynamoClient,
    StorageUnavailable,
    TableNames,
    _table_specs,
    create_missing_tables,
    is_unavailable,
    local_credentials,
    unavailable_on_failure,
    upgrade_messages_table,
)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (EndpointConnectionError(endpoint_url="http://x"), True),
        (ReadTimeoutError(endpoint_url="http://x"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (client_error("ProvisionedThroughputExceededException"), True),
        (client_error("InternalServerError"), True),
        (client_error("ResourceNotFoundException"), True),
        (client_error("ConditionalCheckFailedException"), False),
        (client_error("ValidationException"), False),
        (ValueError("a bug"), False),
    ],
)
def test_is_unavailable(exc: BaseException, unavailable: bool) -> None:
    assert is_unavailable(exc) is unavailable


def test_unavailable_on_failure_translates_only_outages() -> None:
    with pytest.raises(StorageUnavailable, match=r"^DynamoDB: "), unavailable_on_failure():
        raise ConnectionRefusedError("refused")
    with pytest.raises(ClientError), unavailable_on_failure():
        raise client_error("ConditionalCheckFailedException")
    with unavailable_on_failure():
        pass


def test_table_names_share_the_prefix() -> None:
    assert TableNames.with_prefix("p-") == TableNames(
        "p-users", "p-rooms", "p-messages", "p-members"
    )


def test_a_local_endpoint_gets_placeholder_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    local = load_settings(dynamodb_endpoint="http://127.0.0.1:8000")
    assert set(local_credentials(local)) == {"aws_access_key_id", "aws_secret_access_key"}
    assert local_credentials(load_settings(dynamodb_endpoint="")) == {}
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    assert local_credentials(local) == {}


async def test_creating_tables_is_idempotent(dynamo: DynamoClient, tables: TableNames) -> None:
    assert await create_missing_tables(dynamo, tables) == []
    description = await dynamo.describe_table(TableName=tables.messages)
    # Old images too (rich messages): a REMOVE becomes a tombstone, an edit is told by its text.
    assert description["Table"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    indexes = description["Table"]["GlobalSecondaryIndexes"]
    assert [(i["IndexName"], [k["AttributeName"] for k in i["KeySchema"]]) for i in indexes] == [
        ("changes", ["room", "changedAt"])
    ]


async def test_a_table_of_before_rich_messages_is_upgraded(dynamo: DynamoClient) -> None:
    names = TableNames.with_prefix(f"parley-old-{secrets.token_hex(3)}-")
    old = next(spec for spec in _table_specs(names) if spec["TableName"] == names.messages)
    old = {key: value for key, value in old.items() if key != "GlobalSecondaryIndexes"}
    old["AttributeDefinitions"] = old["AttributeDefinitions"][:2]
    old["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    await dynamo.create_table(BillingMode="PAY_PER_REQUEST", **old)
    try:
        said = await upgrade_messages_table(dynamo, names.messages)
        assert said[0] == f"{names.messages}: index changes added"
        assert "turn it to NEW_AND_OLD_IMAGES" in said[1]
        table = (await dynamo.describe_table(TableName=names.messages))["Table"]
        assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["changes"]
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"  # left alone
        assert len(await upgrade_messages_table(dynamo, names.messages)) == 1
    finally:
        await dynamo.delete_table(TableName=names.messages)
