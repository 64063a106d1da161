"""What the in-process tests share: messages to store, a Broadcaster that records what it got
(the Protocol at the edge of messaging and ingest), and faults injected into a real DynamoDB
client through botocore's own event hooks (the call is refused before it is sent, or its
answer is lost after the write happened)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.mentions import Mentions
from parley.models import Message
from parley.storage.dynamo import DynamoClient


def make_message(
    *,
    room: str = "general",
    username: str = "ada",
    text: str = "hello",
    client_id: str | None = None,
    message_id: str | None = None,
) -> Message:
    message_id = message_id or new_ulid()
    return Message(
        id=message_id,
        room=room,
        username=username,
        text=text,
        created_at=iso_utc(ulid_datetime(message_id)),
        client_id=client_id,
    )


def new_name(prefix: str = "u") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


class RecordingBroadcaster:
    """Records each broadcast; `fail_with` makes the next broadcasts raise instead."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.updates: list[Message] = []
        self.to_users: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_with: BaseException | None = None

    async def message(self, message: Message) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.messages.append(message)

    async def message_updated(self, message: Message) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.updates.append(message)

    async def to_user(
        self, username: str, event: str, data: Mapping[str, Any], *, skip_sid: str | None = None
    ) -> None:
        self.to_users.append((username, event, dict(data)))

    def mentions(self, *members: str) -> Mentions:
        """Mentions resolved against a room whose members are `members` (every room alike),
        told through this broadcaster."""
        return Mentions(KnownMembers(members), self)


class KnownMembers:
    def __init__(self, names: Iterable[str]) -> None:
        self.names = {name.lower() for name in names}

    async def among(self, room_id: str, usernames: Iterable[str]) -> set[str]:
        return self.names & {name.lower() for name in usernames}


Hook = Callable[..., Awaitable[Any]]


@contextmanager
def hooked(client: DynamoClient, event: str, hook: Hook) -> Iterator[None]:
    """Run `hook` on a botocore event of this client (e.g. "before-call.dynamodb.PutItem")."""
    client.meta.events.register(event, hook)
    try:
        yield
    finally:
        client.meta.events.unregister(event, hook)


def refused(client: DynamoClient, operation: str, *, times: int = 1) -> Any:
    """The next `times` calls of the operation fail without reaching DynamoDB."""
    left = [times]

    async def hook(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")

    return hooked(client, f"before-call.dynamodb.{operation}", hook)


def answer_lost(client: DynamoClient, operation: str, *, times: int = 1) -> Any:
    """The next `times` calls of the operation do reach DynamoDB, then time out for the
    caller: the uncertain failure after which a write may or may not have happened."""
    left = [times]

    async def hook(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise ReadTimeoutError(endpoint_url="http://dynamodb.invalid")

    return hooked(client, f"after-call.dynamodb.{operation}", hook)


def delayed(client: DynamoClient, operation: str, gate: asyncio.Event, *, marker: str) -> Any:
    """Calls of the operation whose request contains `marker` (e.g. a message's text) wait
    for `gate` before they are sent."""

    async def hook(params: dict[str, Any], **_: Any) -> None:
        body = params.get("body", b"")
        if marker.encode() in (body if isinstance(body, bytes) else body.encode()):
            await gate.wait()

    return hooked(client, f"before-call.dynamodb.{operation}", hook)


def failing(client: DynamoClient, operation: str, exc: BaseException) -> Any:
    """Every call of the operation raises `exc` before it is sent."""

    async def hook(**_: Any) -> None:
        raise exc

    return hooked(client, f"before-call.dynamodb.{operation}", hook)
