"""A flood of every socket event, from one client and from many, keeps the server's memory
bounded: the RSS of the `parley serve` process is sampled before, during and after (bounded
loops on loopback; the numbers are printed, run with `-s` to see them).

A limit is shown by going past it by a margin, not by a huge count: each phase sends every
event kind past its burst (the socket's for one client, the user's over several sockets for
many) and far past the events a socket may have in flight. What costs time is the work the
server admits (messages stored in DynamoDB and broadcast), which grows with the count, so
`make test` runs 20 clients for 20 rounds; `make soak` runs 40 for 50 (PARLEY_FLOOD_CLIENTS,
PARLEY_FLOOD_ROUNDS)."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
from typing import Any

import psutil
import pytest

from parley.realtime.limits import MAX_EVENTS_IN_FLIGHT, SOCKET_BUDGETS, USER_BUDGETS
from tests.conftest import Signup, StartApp, separate_tables
from tests.realtime.client import ChatClient
from tests.servers import AppServer

MIB = 1024 * 1024
# Generous: the flood must not grow the server by anything like what it sends (the one-client
# flood alone sends ~60 MB of events, the many-client one more).
GROWTH_BOUND = 150 * MIB

ONE_CLIENT_ROUNDS = 400
MANY_CLIENTS = int(os.environ.get("PARLEY_FLOOD_CLIENTS", "20"))
MANY_ROUNDS = int(os.environ.get("PARLEY_FLOOD_ROUNDS", "20"))
# The many clients share few users, so each user's budgets are spent over several sockets
# (under MAX_SOCKETS_PER_SESSION).
SOCKETS_PER_USER = 5
# How far past a burst each phase goes, at the least.
MARGIN = 1.3

BIG = "😀" * 4000
EVENTS: list[tuple[str, Any]] = [
    ("join", {"room": "general"}),
    ("typing", {"room": "general"}),
    ("leave", {"room": "general"}),
    ("join", {"room": "no-such-room"}),
    ("message", {"room": "general", "text": BIG}),
    ("message", {"room": "general", "text": "x" * 20_000}),  # too large an event
    ("nonsense", {"a": 1}),
    ("typing", {"room": "x" * 65}),
]


def test_each_phase_goes_past_every_limit_by_a_margin() -> None:
    """The counts above, against the limits they are meant to exceed (a check on this file's
    numbers, also under PARLEY_FLOOD_CLIENTS and PARLEY_FLOOD_ROUNDS)."""
    assert MANY_CLIENTS >= SOCKETS_PER_USER
    for event, budget in SOCKET_BUDGETS.items():
        per_round = sum(name == event for name, _ in EVENTS)
        if not per_round:
            continue  # edit, delete, react, read: their own tests
        assert ONE_CLIENT_ROUNDS * per_round >= MARGIN * budget.burst, event
        sent_by_user = MANY_ROUNDS * per_round * SOCKETS_PER_USER
        assert sent_by_user >= MARGIN * USER_BUDGETS[event].burst, event
    for rounds in (ONE_CLIENT_ROUNDS, MANY_ROUNDS):
        assert rounds * len(EVENTS) >= MARGIN * MAX_EVENTS_IN_FLIGHT


async def flood(client: ChatClient, rounds: int) -> None:
    """Every event, `rounds` times, without waiting for acks (fire and forget)."""
    for _ in range(rounds):
        if not client.sio.connected:
            return
        for event, payload in EVENTS:
            if event == "message":
                payload = {**payload, "clientId": secrets.token_hex(8)}
            try:
                await client.sio.emit(event, payload)
            except Exception:  # disconnected for going far past its budget: expected
                return
        await asyncio.sleep(0)


async def probe_until_served(server: AppServer, cookie: str) -> None:
    """A join by someone who took no part in the flood succeeds within 120 s. While DynamoDB
    works through the flood's writes the server may answer `unavailable` with a `retryAfter`,
    and a client retries then, as this one does."""
    probe = ChatClient(server, cookie)
    await probe.connect()
    deadline = asyncio.get_running_loop().time() + 120
    try:
        while True:
            ack = await probe.call("join", {"room": "general"}, timeout=120)
            if ack["ok"] or ack["code"] != "unavailable":
                break
            assert asyncio.get_running_loop().time() < deadline, ack
            await asyncio.sleep(ack["retryAfter"])
        assert ack["ok"] is True, ack
    finally:
        await probe.close()


async def sample(pid: int, samples: list[int], stop: asyncio.Event) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        samples.append(process.memory_info().rss)
        await asyncio.sleep(0.1)


# Up to 120 s for the server to work through the flood's backlog, on top of the flood itself.
@pytest.mark.timeout(300)
async def test_a_flood_of_every_event_keeps_memory_bounded(
    start_server: StartApp, signup: Signup, base_env: dict[str, str]
) -> None:
    # Tables of its own, and stopped at the end: the flood's thousands of stored messages are
    # not left in the shared tables for every other instance's stream consumer to deliver.
    async with separate_tables(base_env, "flood") as env:
        server = start_server(
            redis_db=7,
            PARLEY_TABLE_PREFIX=env["PARLEY_TABLE_PREFIX"],
            PARLEY_SOCKET_BUDGET_SCALE="1",  # the real budgets
        )
        try:
            await flood_and_measure(server, signup)
        finally:
            await asyncio.to_thread(server.stop)


async def flood_and_measure(server: AppServer, signup: Signup) -> None:
    process = psutil.Process(server.process.pid)
    people = [await signup(server) for _ in range(math.ceil(MANY_CLIENTS / SOCKETS_PER_USER))]
    # Not one of the flooders: their per-user budgets are spent, and a refused join is no sign
    # of a server that stopped serving.
    bystander = await signup(server)
    warm = ChatClient(server, people[0].cookie)
    await warm.connect()
    await warm.join()
    await warm.send("warm up")
    await warm.close()
    await asyncio.sleep(1)
    before = process.memory_info().rss

    peaks = {}
    everything: list[int] = []
    for label, count, rounds in (
        ("one client", 1, ONE_CLIENT_ROUNDS),
        ("many clients", MANY_CLIENTS, MANY_ROUNDS),
    ):
        clients = [ChatClient(server, people[i // SOCKETS_PER_USER].cookie) for i in range(count)]
        await asyncio.gather(*(client.connect() for client in clients))
        samples: list[int] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample(server.process.pid, samples, stop))
        await asyncio.gather(*(flood(client, rounds) for client in clients))
        await asyncio.gather(*(client.close() for client in clients))
        # Still serving once what was sent is handled (a backlog of stored, broadcast messages).
        await probe_until_served(server, bystander.cookie)
        stop.set()
        await sampler
        peaks[label] = max(samples)
        everything += samples

    after = process.memory_info().rss
    print(
        f"\nserver RSS: before {before / MIB:.1f} MiB, "
        + ", ".join(f"peak under {label} {peak / MIB:.1f} MiB" for label, peak in peaks.items())
        + f", after {after / MIB:.1f} MiB"
    )
    assert max([*everything, after]) - before < GROWTH_BOUND
