"""Rich messages over real sockets against a real `parley serve`: edit, delete, react and reply
(every row of the contract's "Rich messages" table), the erasure checked in the raw DynamoDB
item, bad input answered with its code and nothing written, and a client that was away
catching up with the changes made meanwhile."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

import boto3
import httpx
import pytest

from parley.config import Settings
from parley.ids import new_ulid, ulid_at
from parley.storage.dynamo import TableNames
from tests.conftest import Connect, Person, Signup, StartApp
from tests.realtime.client import ChatClient
from tests.realtime.test_chat import create_room
from tests.servers import AppServer


def raw_item(settings: Settings, tables: TableNames, room: str, message_id: str) -> Any:
    client = boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.dynamodb_endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "parley-test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "parley-test"),
    )
    response = client.get_item(
        TableName=tables.messages,
        Key={"room": {"S": room}, "id": {"S": message_id}},
        ConsistentRead=True,
    )
    return response.get("Item")


class Room:
    """A new room with its author and a reader, both joined."""

    def __init__(self, room: str, author: ChatClient, reader: ChatClient, people: list[Person]):
        self.id = room
        self.author = author
        self.reader = reader
        self.people = people

    async def sent(self, text: str = "hello", **extra: Any) -> dict[str, Any]:
        payload = {"room": self.id, "text": text, "clientId": secrets.token_hex(8), **extra}
        ack = await self.author.call("message", payload)
        assert ack["ok"] is True, ack
        await self.reader.next("message")
        await self.author.next("message")
        message: dict[str, Any] = ack["message"]
        return message


@pytest.fixture
async def room(signup: Signup, connect: Connect) -> Room:
    people = [await signup(), await signup()]
    author, reader = await connect(people[0]), await connect(people[1])
    room = await create_room(author, f"rich {secrets.token_hex(3)}")
    await author.join(room)
    await reader.join(room)
    return Room(room, author, reader, people)


async def history(client: ChatClient, room: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(
        base_url=client.server.url, cookies={"parley_session": client.cookie or ""}
    ) as http:
        response = await http.get(f"/api/rooms/{room}/messages")
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


async def test_a_message_carries_the_rich_fields(room: Room) -> None:
    sent = await room.sent("plain")
    assert sent["editedAt"] is None
    assert sent["deleted"] is False
    assert sent["replyTo"] is None
    assert sent["reactions"] == []
    assert sent["mentions"] == []


# ------------------------------------------------------------------------------------ edit


async def test_the_author_edits_and_the_room_sees_it(
    room: Room, settings: Settings, tables: TableNames
) -> None:
    sent = await room.sent("helo")
    ack = await room.author.call("edit", {"room": room.id, "id": sent["id"], "text": " hello "})
    assert ack["ok"] is True, ack
    edited = ack["message"]
    assert edited["text"] == "hello"
    assert edited["editedAt"] is not None
    assert {**edited, "text": "helo", "editedAt": None} == sent
    assert await room.reader.next("message_updated") == edited
    assert await room.author.next("message_updated") == edited
    assert (await history(room.reader, room.id))[-1] == edited
    assert (await room.reader.join(room.id))[-1] == edited  # the join's page too
    assert raw_item(settings, tables, room.id, sent["id"])["text"] == {"S": "hello"}


async def test_only_the_author_edits(room: Room, settings: Settings, tables: TableNames) -> None:
    sent = await room.sent("mine")
    ack = await room.reader.call("edit", {"room": room.id, "id": sent["id"], "text": "yours"})
    assert (ack["ok"], ack["code"]) == (False, "forbidden")
    assert raw_item(settings, tables, room.id, sent["id"])["text"] == {"S": "mine"}
    assert room.reader.drain("message_updated") == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
async def test_an_edit_keeps_the_text_rules(
    room: Room, settings: Settings, tables: TableNames, text: str
) -> None:
    sent = await room.sent("fine")
    ack = await room.author.call("edit", {"room": room.id, "id": sent["id"], "text": text})
    assert (ack["ok"], ack["code"]) == (False, "invalid")
    assert "editedAt" not in raw_item(settings, tables, room.id, sent["id"])


async def test_editing_what_is_not_there(room: Room, signup: Signup, connect: Connect) -> None:
    ack = await room.author.call("edit", {"room": room.id, "id": new_ulid(), "text": "x"})
    assert (ack["ok"], ack["code"]) == (False, "not_found")
    # A message of another room, named with this room: not found here.
    elsewhere = await create_room(room.author, f"other {secrets.token_hex(3)}")
    await room.author.join(elsewhere)
    other = (await room.author.send("over there", elsewhere))["message"]
    ack = await room.author.call("edit", {"room": room.id, "id": other["id"], "text": "x"})
    assert (ack["ok"], ack["code"]) == (False, "not_found")
    ack = await room.author.call("edit", {"room": room.id, "id": "not-an-id", "text": "x"})
    assert (ack["ok"], ack["code"]) == (False, "invalid")


async def test_a_deleted_message_is_not_edited(room: Room) -> None:
    sent = await room.sent("soon gone")
    assert (await room.author.call("delete", {"room": room.id, "id": sent["id"]}))["ok"]
    ack = await room.author.call("edit", {"room": room.id, "id": sent["id"], "text": "back"})
    assert (ack["ok"], ack["code"]) == (False, "conflict")


# ---------------------------------------------------------------------------------- delete


async def test_delete_erases_the_item(room: Room, settings: Settings, tables: TableNames) -> None:
    sent = await room.sent("a secret")
    await room.reader.call("react", {"room": room.id, "id": sent["id"], "emoji": "👍", "on": True})
    await room.author.next("message_updated")
    await room.reader.next("message_updated")
    ack = await room.author.call("delete", {"room": room.id, "id": sent["id"]})
    assert ack["ok"] is True, ack
    tombstone = ack["message"]
    assert tombstone == {
        **sent,
        "text": "",
        "deleted": True,
        "clientId": None,
        "reactions": [],
    }
    assert await room.reader.next("message_updated") == tombstone
    item = raw_item(settings, tables, room.id, sent["id"])
    assert set(item) == {"room", "id", "username", "createdAt", "text", "deleted", "changedAt"}
    assert item["text"] == {"S": ""}
    assert item["deleted"] == {"BOOL": True}
    assert "a secret" not in repr(item)
    assert (await history(room.reader, room.id))[-1] == tombstone
    # Idempotent: the same tombstone, nothing written or broadcast again.
    again = await room.author.call("delete", {"room": room.id, "id": sent["id"]})
    assert again == ack
    assert raw_item(settings, tables, room.id, sent["id"]) == item


async def test_only_the_author_deletes(room: Room, settings: Settings, tables: TableNames) -> None:
    sent = await room.sent("keep me")
    ack = await room.reader.call("delete", {"room": room.id, "id": sent["id"]})
    assert (ack["ok"], ack["code"]) == (False, "forbidden")
    assert raw_item(settings, tables, room.id, sent["id"])["text"] == {"S": "keep me"}
    ack = await room.author.call("delete", {"room": room.id, "id": new_ulid()})
    assert (ack["ok"], ack["code"]) == (False, "not_found")


# ----------------------------------------------------------------------------------- reply


async def test_a_reply_quotes_its_parent_until_it_is_deleted(
    room: Room, settings: Settings, tables: TableNames
) -> None:
    parent = await room.sent("p" * 250)
    reply = await room.sent("an answer", replyTo=parent["id"])
    quote = {"id": parent["id"], "username": parent["username"], "text": "p" * 200}
    assert reply["replyTo"] == quote
    assert (await history(room.reader, room.id))[-1]["replyTo"] == quote
    await room.author.call("delete", {"room": room.id, "id": parent["id"]})
    updates = [await room.reader.next("message_updated") for _ in range(2)]
    assert [u["id"] for u in updates] == [parent["id"], reply["id"]]
    assert updates[1] == {**reply, "replyTo": {**quote, "text": ""}}
    assert (await history(room.reader, room.id))[-1] == updates[1]
    item = raw_item(settings, tables, room.id, reply["id"])
    assert item["replyTo"]["M"]["text"] == {"S": ""}
    assert "p" * 20 not in repr(item)


async def test_a_reply_names_a_message_of_the_same_room(
    room: Room, settings: Settings, tables: TableNames
) -> None:
    elsewhere = await create_room(room.author, f"other {secrets.token_hex(3)}")
    await room.author.join(elsewhere)
    other = (await room.author.send("over there", elsewhere))["message"]
    gone = await room.sent("gone")
    await room.author.call("delete", {"room": room.id, "id": gone["id"]})
    refused = [(other["id"], "not_found"), (new_ulid(), "not_found"), (gone["id"], "conflict")]
    for parent, code in refused:
        payload = {"room": room.id, "text": "re", "clientId": secrets.token_hex(8)}
        ack = await room.author.call("message", {**payload, "replyTo": parent})
        assert (ack["ok"], ack["code"]) == (False, code), parent
    # Nothing was stored: the room holds only the deleted message.
    assert [m["text"] for m in await history(room.reader, room.id)] == [""]


# ---------------------------------------------------------------------------------- react


async def react(client: ChatClient, room: str, message_id: str, emoji: str, on: bool = True) -> Any:
    return await client.call("react", {"room": room, "id": message_id, "emoji": emoji, "on": on})


async def test_reactions_toggle_idempotently(room: Room) -> None:
    sent = await room.sent("react to me")
    ack = await react(room.reader, room.id, sent["id"], "👍")
    assert ack["ok"] is True, ack
    reader = room.people[1].username
    assert ack["message"]["reactions"] == [{"emoji": "👍", "users": [reader]}]
    assert await room.author.next("message_updated") == ack["message"]
    assert await react(room.reader, room.id, sent["id"], "👍") == ack  # again: no change
    second = await react(room.author, room.id, sent["id"], "🎉")
    assert [r["emoji"] for r in second["message"]["reactions"]] == ["👍", "🎉"]
    off = await react(room.reader, room.id, sent["id"], "👍", on=False)
    assert off["message"]["reactions"] == [{"emoji": "🎉", "users": [room.people[0].username]}]
    assert await react(room.reader, room.id, sent["id"], "👍", on=False) == off
    updates = [await room.author.next("message_updated") for _ in range(2)]
    assert updates == [second["message"], off["message"]]
    assert room.author.drain("message_updated") == []  # the repeats broadcast nothing


async def test_concurrent_reactions_all_count(room: Room, signup: Signup, connect: Connect) -> None:
    sent = await room.sent("everyone react")
    people = [await signup() for _ in range(12)]
    clients = [await connect(person) for person in people]
    for client in clients:
        await client.join(room.id)
    emoji = ["👍", "🎉"]
    acks = await asyncio.gather(
        *(
            react(client, room.id, sent["id"], emoji[i % 2])
            for i, client in enumerate(clients)
            for _ in range(2)  # each twice at once: idempotent
        )
    )
    assert all(ack["ok"] for ack in acks), acks
    final = (await history(room.reader, room.id))[-1]["reactions"]
    assert {r["emoji"]: sorted(r["users"]) for r in final} == {
        e: sorted(p.username for i, p in enumerate(people) if i % 2 == n)
        for n, e in enumerate(emoji)
    }


@pytest.mark.parametrize("emoji", ["a", "1", "👍👍", "", "🙂x", "\u200d"])
async def test_an_emoji_is_one_emoji(
    room: Room, settings: Settings, tables: TableNames, emoji: str
) -> None:
    sent = await room.sent("judge my emoji")
    ack = await react(room.author, room.id, sent["id"], emoji)
    assert (ack["ok"], ack["code"]) == (False, "invalid")
    item = raw_item(settings, tables, room.id, sent["id"])
    assert not any(name.startswith("reaction") for name in item)


async def test_at_most_twenty_emoji(room: Room) -> None:
    sent = await room.sent("so many feelings")
    twenty = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊"]
    twenty += ["😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚", "🙂"]
    for emoji in twenty:
        assert (await react(room.author, room.id, sent["id"], emoji))["ok"]
    ack = await react(room.author, room.id, sent["id"], "🤗")
    assert (ack["ok"], ack["code"]) == (False, "invalid")
    # Someone else may still join a reaction that is there, and a freed place can be taken.
    assert (await react(room.reader, room.id, sent["id"], "😀"))["ok"]
    await react(room.author, room.id, sent["id"], "🙂", on=False)
    ack = await react(room.author, room.id, sent["id"], "🤗")
    assert ack["ok"], ack
    assert [r["emoji"] for r in ack["message"]["reactions"]] == [*twenty[:19], "🤗"]


async def test_reactions_to_what_is_not_there(room: Room) -> None:
    ack = await react(room.author, room.id, new_ulid(), "👍")
    assert (ack["ok"], ack["code"]) == (False, "not_found")
    sent = await room.sent("to be deleted")
    await room.author.call("delete", {"room": room.id, "id": sent["id"]})
    ack = await react(room.reader, room.id, sent["id"], "👍")
    assert (ack["ok"], ack["code"]) == (False, "conflict")


async def test_a_reaction_flood_is_rate_limited(start_server: StartApp, signup: Signup) -> None:
    server: AppServer = start_server(redis_db=9, PARLEY_SOCKET_BUDGET_SCALE="1")
    person = await signup(server)
    client = ChatClient(server, person.cookie)
    await client.connect()
    try:
        room = await create_room(client, f"flood {secrets.token_hex(3)}")
        await client.join(room)
        sent = (await client.send("flood me", room))["message"]
        # At once: the socket's budget is a burst of 30, then 5 a second.
        acks = await asyncio.gather(*(react(client, room, sent["id"], "👍") for _ in range(60)))
        limited = [ack for ack in acks if not ack["ok"]]
        assert len(limited) >= 20, acks
        assert {ack["code"] for ack in limited} == {"rate_limited"}
        assert all(ack["retryAfter"] > 0 for ack in limited)
        assert client.sio.connected
    finally:
        await client.close()


# ----------------------------------------------------------------------------- catching up


async def changes(client: ChatClient, room: str, since: str) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=client.server.url, cookies={"parley_session": client.cookie or ""}
    ) as http:
        response = await http.get(f"/api/rooms/{room}/changes", params={"since": since})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def test_a_client_that_was_away_learns_the_changes(room: Room, connect: Connect) -> None:
    kept = await room.sent("will be edited")
    gone = await room.sent("will be deleted")
    liked = await room.sent("will be liked")
    # While connected the reader is in sync; it keeps the sync point of its last catch-up.
    sync = (await changes(room.reader, room.id, ulid_at(0)))["sync"]
    await room.reader.close()
    await room.author.call("edit", {"room": room.id, "id": kept["id"], "text": "edited"})
    await room.author.call("delete", {"room": room.id, "id": gone["id"]})
    await react(room.author, room.id, liked["id"], "❤️")
    back = await connect(room.people[1])
    await back.join(room.id)
    caught = await changes(back, room.id, sync)
    assert caught["next"] is None
    by_id = {m["id"]: m for m in caught["messages"]}
    assert by_id[kept["id"]]["text"] == "edited"
    assert by_id[gone["id"]]["deleted"] is True
    assert by_id[liked["id"]]["reactions"] == [{"emoji": "❤️", "users": [room.people[0].username]}]
    assert caught["sync"] >= sync


async def test_changes_are_paged(room: Room) -> None:
    since = ulid_at(0)
    sent = [await room.sent(f"m{i}") for i in range(3)]
    for message in sent:
        await room.author.call("edit", {"room": room.id, "id": message["id"], "text": "e"})
    seen: list[str] = []
    async with httpx.AsyncClient(
        base_url=room.reader.server.url, cookies={"parley_session": room.reader.cookie or ""}
    ) as http:
        cursor: str | None = since
        while cursor is not None:
            response = await http.get(
                f"/api/rooms/{room.id}/changes", params={"since": cursor, "limit": 2}
            )
            body = response.json()
            seen += [m["id"] for m in body["messages"]]
            cursor = body["next"]
        assert seen == [m["id"] for m in sent]
        nowhere = await http.get("/api/rooms/no-such-room/changes", params={"since": since})
        assert nowhere.status_code == 404
        bad = await http.get(f"/api/rooms/{room.id}/changes", params={"since": "x"})
        assert bad.status_code == 422
