"""A chat load with churn, shared by the soak test and the fault tests: people send at a steady
rate and retry unacknowledged sends with the same clientId; readers drop, come back (maybe on
another instance) and catch up with `after=` as docs/reference.md says ("Catching up": from the
newest id seen before the gap minus the visibility bound); in the end every view is compared
with the room's history in DynamoDB."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from parley.ids import ulid_at, ulid_seconds
from parley.messaging import VISIBILITY_BOUND
from tests.realtime.client import ChatClient
from tests.servers import AppServer
from tests.utils import PASSWORD, login, post_as_a_client

MIN_ULID = "0" * 26


@dataclass
class Reader:
    """One person's view of one room, across however many connections."""

    username: str
    cookie: str
    room: str
    # The history a (re)connect's join asks for; 0 leaves everything to the catch-up, where a
    # page of 50 would hide a gap while fewer than 50 messages followed it.
    join_limit: int | None = None
    client: ChatClient | None = None
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    reordered: int = 0  # within one connection, a sender's message after a later one of theirs
    live_duplicates: int = 0  # within one connection, the same message twice
    catch_ups: int = 0
    reread: int = 0  # messages a catch-up returned that the reader had seen (the bound's cost)
    _live: dict[str, str] = field(default_factory=dict)  # this connection: id -> sender

    def new_connection(self) -> None:
        self._live = {}

    def take(self, message: dict[str, Any], *, live: bool) -> None:
        if live:
            if message["id"] in self._live:
                self.live_duplicates += 1
            sender = message["username"]
            if any(i > message["id"] for i, s in self._live.items() if s == sender):
                self.reordered += 1
            self._live[message["id"]] = sender
        self.seen[message["id"]] = message


@dataclass
class Tally:
    sent: int = 0
    acked: int = 0
    failed_attempts: int = 0
    reconnects: int = 0


async def make_person(server: AppServer) -> tuple[str, str]:
    """A new account, logged in. Registering a hundred at once (a bcrypt and a transaction
    each) beside the rest of the suite can meet DynamoDB slow: a `503` with `retryAfter` is
    retried as a client would, and a `409` after it means the first attempt landed."""
    username = f"soak_{secrets.token_hex(4)}"
    body = {"username": username, "password": PASSWORD}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        first = await http.post("/api/auth/register", json=body)
        if first.status_code == 503:
            await asyncio.sleep(first.json()["retryAfter"])
            retried = await post_as_a_client(http, "/api/auth/register", body)
            assert retried.status_code in (201, 409), retried.text
        else:
            assert first.status_code == 201, first.text
        return username, await login(http, username)


async def make_people(server: AppServer, count: int) -> list[tuple[str, str]]:
    """`count` new accounts at once. If one fails the others stop too, rather than go on
    logging in beside the next test."""
    async with asyncio.TaskGroup() as group:
        people = [group.create_task(make_person(server)) for _ in range(count)]
    return [person.result() for person in people]


async def create_room(server: AppServer, cookie: str, name: str) -> str:
    async with httpx.AsyncClient(
        base_url=server.url, cookies={"parley_session": cookie}, timeout=30
    ) as http:
        response = await http.post("/api/rooms", json={"name": name})
        assert response.status_code == 201, response.text
        room: str = response.json()["id"]
        return room


async def history(server: AppServer, cookie: str, room: str) -> list[dict[str, Any]]:
    return await history_after(server, cookie, room, MIN_ULID)


async def connect_reader(reader: Reader, server: AppServer) -> None:
    client = ChatClient(server, reader.cookie)
    reader.new_connection()

    def on_message(data: dict[str, Any]) -> None:
        if data["room"] == reader.room:
            reader.take(data, live=True)

    client.sio.on("message", on_message)
    await client.connect()
    reader.client = client
    for message in await client.join(reader.room, limit=reader.join_limit):
        reader.take(message, live=False)


def catch_up_from(reader: Reader) -> str:
    """The documented start of a catch-up: the newest id seen, minus the visibility bound."""
    if not reader.seen:
        return MIN_ULID
    return ulid_at(ulid_seconds(max(reader.seen)) - VISIBILITY_BOUND.seconds)


async def catch_up(reader: Reader, server: AppServer, since: str | None = None) -> int:
    """Page through `after=since` (by default from what the reader has seen); how many
    messages were read."""
    since = catch_up_from(reader) if since is None else since
    read = await history_after(server, reader.cookie, reader.room, since)
    reader.catch_ups += 1
    reader.reread += sum(1 for message in read if message["id"] in reader.seen)
    for message in read:
        reader.take(message, live=False)
    return len(read)


async def history_after(
    server: AppServer, cookie: str, room: str, after: str
) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    cursor: str | None = after
    async with httpx.AsyncClient(
        base_url=server.url, cookies={"parley_session": cookie}, timeout=30
    ) as http:
        while cursor is not None:
            response = await http.get(f"/api/rooms/{room}/messages?after={cursor}&limit=100")
            response.raise_for_status()
            page = response.json()
            messages.extend(page["messages"])
            cursor = page["next"]
    return messages


async def reconnect(reader: Reader, servers: list[AppServer]) -> None:
    """Drop, wait a little, come back on a random live instance, catch up."""
    if reader.client is not None:
        with contextlib.suppress(Exception):
            await reader.client.close()
    await asyncio.sleep(random.uniform(0.1, 0.6))
    for _ in range(20):
        live = [s for s in servers if s.process.poll() is None]
        server = random.choice(live)
        since = catch_up_from(reader)  # before the join's page adds newer ones
        try:
            await connect_reader(reader, server)
            await catch_up(reader, server, since)
            return
        except Exception:
            await asyncio.sleep(0.3)
    raise AssertionError(f"{reader.username} could not reconnect")


async def send_steadily(
    sender: Reader,
    servers: list[AppServer],
    tally: Tally,
    *,
    rate: float,
    seconds: float,
    stop: asyncio.Event,
) -> None:
    """Send at `rate`/s for `seconds`; every message is retried with its clientId until acked."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    n = 0
    while loop.time() < deadline and not stop.is_set():
        client_id = f"{sender.username}-{n}"
        n += 1
        tally.sent += 1
        for _ in range(120):
            ack = await try_send(sender, client_id)
            if ack is not None and ack.get("ok"):
                tally.acked += 1
                sender.take(ack["message"], live=False)
                break
            tally.failed_attempts += 1
            await asyncio.sleep(0.25)
        else:
            raise AssertionError(f"{client_id} was never acked")
        await asyncio.sleep(1 / rate)


async def try_send(sender: Reader, client_id: str) -> dict[str, Any] | None:
    """The ack, or None when there was none (no connection, a timeout, a dropped socket)."""
    client = sender.client
    if client is None or not client.sio.connected:
        return None
    payload = {"room": sender.room, "text": client_id, "clientId": client_id}
    with contextlib.suppress(Exception):
        ack: dict[str, Any] = await client.call("message", payload, timeout=5)
        return ack
    return None


async def keep_connected(
    readers: list[Reader], servers: list[AppServer], stop: asyncio.Event
) -> None:
    """Like a browser's socket.io-client: a dropped connection is re-established elsewhere."""
    while not stop.is_set():
        dropped = [r for r in readers if r.client is not None and r.client.disconnected.is_set()]
        await asyncio.gather(*(reconnect(reader, servers) for reader in dropped))
        await asyncio.sleep(0.2)


async def churn(
    readers: list[Reader],
    servers: list[AppServer],
    tally: Tally,
    *,
    per_second: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        await asyncio.sleep(1 / per_second)
        reader = random.choice(readers)
        tally.reconnects += 1
        await reconnect(reader, servers)


async def close_all(readers: list[Reader]) -> None:
    for reader in readers:
        if reader.client is not None:
            with contextlib.suppress(Exception):
                await reader.client.close()


@dataclass
class Verdict:
    stored: int
    views: int
    lost: int
    duplicated_in_history: int
    live_duplicates: int
    reordered: int

    def __str__(self) -> str:
        return (
            f"stored {self.stored}, views {self.views}, lost {self.lost}, "
            f"duplicated {self.duplicated_in_history}, live duplicates {self.live_duplicates}, "
            f"reordered {self.reordered}"
        )


async def verdict(readers: list[Reader], server: AppServer) -> Verdict:
    """Every reader's view of its room against the room's history in DynamoDB."""
    rooms = {reader.room for reader in readers}
    truth = {room: await history(server, readers[0].cookie, room) for room in rooms}
    lost = 0
    for reader in readers:
        await catch_up(reader, server)  # a last catch-up, as a reconnecting client would
        ids = [m["id"] for m in truth[reader.room]]
        lost += len(set(ids) - set(reader.seen))
        assert set(reader.seen) <= set(ids), "a client saw a message that is not stored"
    duplicated = sum(
        count - 1
        for room in rooms
        for count in Counter(m["clientId"] for m in truth[room]).values()
        if count > 1
    )
    return Verdict(
        stored=sum(len(messages) for messages in truth.values()),
        views=len(readers),
        lost=lost,
        duplicated_in_history=duplicated,
        live_duplicates=sum(r.live_duplicates for r in readers),
        reordered=sum(r.reordered for r in readers),
    )
