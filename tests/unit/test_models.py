"""The domain's value types and their JSON form (the contract's camelCase keys)."""

from __future__ import annotations

from parley.models import QUOTE_LENGTH, Message, Quote, Reaction


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
        # The rich fields (contract, "Rich messages"), at their defaults.
        "editedAt": None,
        "deleted": False,
        "replyTo": None,
        "reactions": [],
        "mentions": [],
    }
    assert Message.from_json(data) == message


def test_every_rich_field_round_trips_through_json() -> None:
    message = Message(
        id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        room="general",
        username="ada",
        text="yes",
        created_at="2016-07-30T23:54:10.259Z",
        edited_at="2016-07-30T23:55:00.000Z",
        reply_to=Quote(id="01ARZ3NDEKTSV4RRFFQ69G5FAA", username="bob", text="q?"),
        reactions=(Reaction("👍", ("bob", "cy")), Reaction("🎉", ("ada",))),
        mentions=("bob",),
    )
    data = message.to_json()
    assert data["replyTo"] == {"id": "01ARZ3NDEKTSV4RRFFQ69G5FAA", "username": "bob", "text": "q?"}
    assert data["reactions"] == [
        {"emoji": "👍", "users": ["bob", "cy"]},
        {"emoji": "🎉", "users": ["ada"]},
    ]
    assert Message.from_json(data) == message


def test_json_of_before_the_rich_fields_is_read() -> None:
    """Pending sends in Redis (48 h) were written with the six fields of before."""
    old = {
        "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "room": "general",
        "username": "ada",
        "text": "hi",
        "createdAt": "2016-07-30T23:54:10.259Z",
        "clientId": "c1",
    }
    message = Message.from_json(old)  # type: ignore[arg-type]
    assert (message.text, message.deleted, message.reactions, message.reply_to) == (
        "hi",
        False,
        (),
        None,
    )


def test_a_quote_is_cut_and_a_tombstone_keeps_only_what_the_contract_names() -> None:
    parent = Message(
        id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        room="general",
        username="ada",
        text="x" * 300,
        created_at="2016-07-30T23:54:10.259Z",
        client_id="c1",
        reactions=(Reaction("👍", ("bob",)),),
    )
    assert Quote.of(parent).text == "x" * QUOTE_LENGTH
    gone = parent.as_deleted().to_json()
    assert {k: v for k, v in gone.items() if v not in (None, [], False, "")} == {
        "id": parent.id,
        "room": "general",
        "username": "ada",
        "createdAt": parent.created_at,
        "deleted": True,
    }
    assert gone["text"] == ""
