"""Users table: one item per account, keyed by the lower-cased name so names are unique
regardless of case, with the name as registered kept for display."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from parley.ids import iso_utc
from parley.models import User
from parley.storage.dynamo import DynamoClient, is_conditional_failure, unavailable_on_failure


class UsernameTaken(Exception):
    pass


class UserStore:
    def __init__(self, client: DynamoClient, table: str) -> None:
        self._client = client
        self._table = table

    async def create(self, *, username: str, password_hash: str) -> User:
        """Conditional put: of two concurrent registrations of one name, exactly one wins."""
        item = {
            "username": {"S": username.lower()},
            "name": {"S": username},
            "passwordHash": {"S": password_hash},
            "createdAt": {"S": iso_utc(datetime.now(UTC))},
        }
        with unavailable_on_failure():
            try:
                await self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(username)",
                )
            except ClientError as exc:
                if is_conditional_failure(exc):
                    raise UsernameTaken(username) from None
                raise
        return User(username=username, password_hash=password_hash)

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
