"""The domain's value types and their JSON form (the contract's camelCase keys)."""

from __future__ import annotations

from parley.models import Message


def test_a_message_round_trips_through_json() -> None:
    message = Message(
        id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        room="general",
        username="ada",
        text="hi",
        created_at="2016-07-30T23:54:10.259Z",
        client_id="c1",
    )
    data = message.to_json()
    assert data == {
        "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "room": "general",
        "username": "ada",
        "text": "hi",
        "createdAt": "2016-07-30T23:54:10.259Z",
        "clientId": "c1",
    }
    assert Message.from_json(data) == message
