"""Payloads of client events, validated at the edge (docs/reference.md, "Socket.IO")."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from parley.errors import ErrorCode, Refused
from parley.ids import ULID_PATTERN
from parley.storage.messages import MAX_TEXT_BYTES, MAX_TEXT_LENGTH, clean_text

# The largest valid event is a 4000-character text of 4-byte characters plus its keys; a
# payload well past that is refused before it is parsed any further.
MAX_EVENT_BYTES = 32 * 1024

RoomId = Annotated[str, Field(min_length=1, max_length=64)]
# The latest messages a join's ack carries by default (older ones are paged over HTTP).
HISTORY_ON_JOIN = 50


class InvalidPayload(Refused):
    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        super().__init__(code, message)


class RoomEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    room: RoomId


def _text(text: str) -> str:
    cleaned = clean_text(text)
    if cleaned is None:
        raise ValueError(f"must be 1-{MAX_TEXT_LENGTH} characters after trimming")
    if len(cleaned.encode()) > MAX_TEXT_BYTES:
        raise ValueError(f"must be at most {MAX_TEXT_BYTES} bytes in UTF-8")
    return cleaned


MessageText = Annotated[str, AfterValidator(_text)]
MessageId = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]


class MessageEvent(RoomEvent):
    text: MessageText
    clientId: Annotated[str, Field(min_length=1, max_length=64)]
    replyTo: MessageId | None = None


class JoinEvent(RoomEvent):
    # How many of the latest messages the ack carries: 0 for a room the client only listens
    # to (its sidebar), up to the default for the room it shows.
    limit: Annotated[int, Field(ge=0, le=HISTORY_ON_JOIN)] = HISTORY_ON_JOIN


class MessageRef(RoomEvent):
    """`delete` and `read`: `{"room", "id"}`."""

    id: MessageId


class EditEvent(MessageRef):
    text: MessageText


class ReactEvent(MessageRef):
    # The longest emoji (a ZWJ family with skin tones) is 11 code points; parley.editing
    # judges what is one.
    emoji: Annotated[str, Field(min_length=1, max_length=32)]
    on: bool


Payload = TypeVar("Payload", bound=BaseModel)


def parse(model: type[Payload], args: tuple[Any, ...]) -> Payload:
    """The one payload of an event, validated; InvalidPayload says what is wrong with it."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise InvalidPayload("payload must be one object")
    data = args[0]
    try:
        size = len(orjson.dumps(data))
    except orjson.JSONEncodeError:
        raise InvalidPayload("payload is not plain JSON") from None
    if size > MAX_EVENT_BYTES:
        raise InvalidPayload("payload too large", ErrorCode.TOO_LARGE)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "payload"
        raise InvalidPayload(
            f"{field}: {str(first['msg']).removeprefix('Value error, ')}"
        ) from None
