"""Users table: one item per account, keyed by the lower-cased name so names are unique
regardless of case, with the name as registered kept for display."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from parley.ids import iso_utc
from parley.models import User
from parley.storage.dynamo import (
    DynamoClient,
    cancellation_reasons,
    is_conditional_failure,
    unavailable_on_failure,
)
from parley.storage.members import MemberStore


class UsernameTaken(Exception):
    pass


class UserStore:
    """With `members`, a new account is a member of general from its creation: the user item
    and that membership are written in one transaction."""

    def __init__(self, client: DynamoClient, table: str, *, members: MemberStore | None = None):
        self._client = client
        self._table = table
        self._members = members

    async def create(self, *, username: str, password_hash: str) -> User:
        """Conditional put: of two concurrent registrations of one name, exactly one wins."""
        put = {
            "TableName": self._table,
            "Item": {
                "username": {"S": username.lower()},
                "name": {"S": username},
                "passwordHash": {"S": password_hash},
                "createdAt": {"S": iso_utc(datetime.now(UTC))},
            },
            "ConditionExpression": "attribute_not_exists(username)",
        }
        with unavailable_on_failure():
            try:
                if self._members is None:
                    await self._client.put_item(**put)
                else:
                    writes = [{"Put": put}, *self._members.general_writes(username)]
                    await self._client.transact_write_items(TransactItems=writes)
            except ClientError as exc:
                if not is_conditional_failure(exc) and cancellation_reasons(exc)[:1] != [
                    "ConditionalCheckFailed"
                ]:
                    raise
                # The client retries a write whose answer was lost (a read timeout), and the
                # retry finds the item its first attempt wrote. A password hash has a salt of
                # its own, so the same hash stored means this very registration.
                if await self._password_hash(username) != password_hash:
                    raise UsernameTaken(username) from None
        return User(username=username, password_hash=password_hash)

    async def _password_hash(self, username: str) -> str | None:
        return await self._attribute(username, "passwordHash")

    async def exists(self, username: str) -> str | None:
        """The name as registered, or None when there is no such account."""
        return await self._attribute(username, "name")

    async def _attribute(self, username: str, attribute: str) -> str | None:
        """One string attribute of the account's item (a consistent read), or None when there
        is no such account."""
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table,
                Key={"username": {"S": username.lower()}},
                ProjectionExpression="#a",
                ExpressionAttributeNames={"#a": attribute},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return None if item is None else str(item[attribute]["S"])

    async def all_names(self) -> list[str]:
        """Every account's name as registered: for `parley migrate` only (a request never
        scans)."""
        names: list[str] = []
        with unavailable_on_failure():
            async for page in self._client.get_paginator("scan").paginate(
                TableName=self._table,
                ProjectionExpression="#n, username",
                ExpressionAttributeNames={"#n": "name"},
            ):
                names.extend(
                    item.get("name", item["username"])["S"] for item in page.get("Items", [])
                )
        return names

    async def get(self, username: str) -> User | None:
        with unavailable_on_failure():
            response = await self._client.get_item(
                TableName=self._table,
                Key={"username": {"S": username.lower()}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            return None
        return User(username=item["name"]["S"], password_hash=item["passwordHash"]["S"])

    async def set_password_hash(self, username: str, password_hash: str) -> bool:
        """Replace the account's password hash; False when there is no such account (the
        condition keeps an update from creating a half item)."""
        with unavailable_on_failure():
            try:
                await self._client.update_item(
                    TableName=self._table,
                    Key={"username": {"S": username.lower()}},
                    UpdateExpression="SET passwordHash = :hash",
                    ConditionExpression="attribute_exists(username)",
                    ExpressionAttributeValues={":hash": {"S": password_hash}},
                )
            except ClientError as exc:
                if is_conditional_failure(exc):
                    return False
                raise
        return True
