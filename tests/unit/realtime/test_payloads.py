"""Client event payloads: one plain JSON object, strict types, no unknown keys, bounded size."""

from __future__ import annotations

from typing import Any

import pytest

from parley.errors import ErrorCode
from parley.realtime.payloads import (
    MAX_EVENT_BYTES,
    EditEvent,
    InvalidPayload,
    MessageEvent,
    MessageRef,
    ReactEvent,
    RoomEvent,
    parse,
)
from parley.storage import messages
from parley.storage.messages import MAX_TEXT_BYTES


def test_a_room_event_is_parsed() -> None:
    assert parse(RoomEvent, ({"room": "general"},)) == RoomEvent(room="general")


def test_message_text_is_trimmed() -> None:
    event = parse(MessageEvent, ({"room": "general", "text": "  hi  ", "clientId": "c1"},))
    assert (event.room, event.text, event.clientId) == ("general", "hi", "c1")


@pytest.mark.parametrize(
    "args",
    [(), ({"room": "a"}, {"room": "b"}), ("general",), (["general"],), (None,)],
    ids=["none", "two", "string", "list", "null"],
)
def test_anything_but_one_object_is_refused(args: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidPayload, match=r"^payload must be one object$"):
        parse(RoomEvent, args)


def test_a_payload_that_is_not_plain_json_is_refused() -> None:
    with pytest.raises(InvalidPayload, match=r"^payload is not plain JSON$"):
        parse(RoomEvent, ({"room": "general", "when": object()},))


def test_an_oversized_payload_is_refused_before_validation() -> None:
    # Unknown keys would also be refused; the size check must come first.
    huge = {"room": "general", "padding": "x" * MAX_EVENT_BYTES}
    with pytest.raises(InvalidPayload, match=r"^payload too large$") as refused:
        parse(RoomEvent, (huge,))
    assert refused.value.problem.code is ErrorCode.TOO_LARGE


def test_the_largest_valid_message_fits() -> None:
    text = "\U0001f600" * 4000  # 4000 code points of 4 bytes each
    event = parse(MessageEvent, ({"room": "r" * 64, "text": text, "clientId": "c" * 64},))
    assert len(event.text) == 4000
    assert len(event.text.encode()) <= MAX_TEXT_BYTES


def test_text_is_capped_in_bytes_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # 4000 code points never exceed 16 KiB; were the code-point limit raised, the byte cap
    # would still hold.
    monkeypatch.setattr(messages, "MAX_TEXT_LENGTH", 8000)
    fits = "\U0001f600" * (MAX_TEXT_BYTES // 4)
    payload = {"room": "general", "text": fits, "clientId": "c1"}
    assert parse(MessageEvent, (payload,)).text == fits
    with pytest.raises(InvalidPayload) as refused:
        parse(MessageEvent, ({**payload, "text": fits + "x"},))
    assert str(refused.value) == f"text: must be at most {MAX_TEXT_BYTES} bytes in UTF-8"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, "room: Field required"),
        ({"room": ""}, "room: String should have at least 1 character"),
        ({"room": "r" * 65}, "room: String should have at most 64 characters"),
        ({"room": 7}, "room: Input should be a valid string"),
        ({"room": "general", "extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_room_event_errors_name_the_field(payload: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidPayload) as refused:
        parse(RoomEvent, (payload,))
    assert str(refused.value) == error
    assert refused.value.problem.code is ErrorCode.INVALID


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"text": "   "}, "text: must be 1-4000 characters after trimming"),
        ({"text": "x" * 4001}, "text: must be 1-4000 characters after trimming"),
        ({"text": 5}, "text: Input should be a valid string"),
        ({"clientId": ""}, "clientId: String should have at least 1 character"),
        ({"clientId": "c" * 65}, "clientId: String should have at most 64 characters"),
    ],
)
def test_message_event_errors_name_the_field(changes: dict[str, Any], error: str) -> None:
    payload = {"room": "general", "text": "hello", "clientId": "c1", **changes}
    with pytest.raises(InvalidPayload) as refused:
        parse(MessageEvent, (payload,))
    assert str(refused.value) == error


def test_rich_message_events_are_parsed() -> None:
    ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    reply = parse(MessageEvent, ({"room": "r", "text": "hi", "clientId": "c", "replyTo": ulid},))
    assert reply.replyTo == ulid
    assert parse(MessageEvent, ({"room": "r", "text": "hi", "clientId": "c"},)).replyTo is None
    edit = parse(EditEvent, ({"room": "r", "id": ulid, "text": "  new  "},))
    assert (edit.id, edit.text) == (ulid, "new")
    assert parse(MessageRef, ({"room": "r", "id": ulid},)).id == ulid
    react = parse(ReactEvent, ({"room": "r", "id": ulid, "emoji": "👍", "on": False},))
    assert (react.emoji, react.on) == ("👍", False)


@pytest.mark.parametrize(
    ("model", "payload", "field"),
    [
        (EditEvent, {"room": "r", "id": "nope", "text": "x"}, "id"),
        (EditEvent, {"room": "r", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "text": " "}, "text"),
        (EditEvent, {"room": "r", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "text"),
        (MessageEvent, {"room": "r", "text": "x", "clientId": "c", "replyTo": 7}, "replyTo"),
        (ReactEvent, {"room": "r", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "emoji": "👍"}, "on"),
        (
            ReactEvent,
            {"room": "r", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "emoji": "👍", "on": "yes"},
            "on",
        ),
        (
            ReactEvent,
            {"room": "r", "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "emoji": "x" * 33, "on": True},
            "emoji",
        ),
    ],
)
def test_bad_rich_payloads_name_their_field(
    model: type[RoomEvent], payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidPayload, match=rf"^{field}: "):
        parse(model, (payload,))
