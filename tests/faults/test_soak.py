"""Soak with churn: 100+ clients over two app instances, steady senders, clients dropping and
coming back; at the end every client's view equals the room's history. `make soak` runs a
longer one (PARLEY_SOAK_CLIENTS, PARLEY_SOAK_SECONDS)."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from tests.conftest import StartApp
from tests.faults.churn import (
    Reader,
    Tally,
    churn,
    close_all,
    connect_reader,
    create_room,
    make_person,
    send_steadily,
    verdict,
)
from tests.servers import AppServer

CLIENTS = int(os.environ.get("PARLEY_SOAK_CLIENTS", "100"))
SECONDS = float(os.environ.get("PARLEY_SOAK_SECONDS", "15"))
SENDERS = max(CLIENTS // 10, 2)
RATE_PER_SENDER = 2.0  # messages per second


@pytest.mark.timeout(300 + SECONDS * 3)
async def test_soak_with_churn_loses_nothing(app: AppServer, start_server: StartApp) -> None:
    servers = [app, start_server()]
    people = await asyncio.gather(*(make_person(app) for _ in range(CLIENTS)))
    rooms = [
        await create_room(app, people[0][1], f"soak {secrets.token_hex(3)} {n}") for n in range(2)
    ]
    readers = [
        Reader(username, cookie, rooms[i % 2]) for i, (username, cookie) in enumerate(people)
    ]
    for i, reader in enumerate(readers):
        await connect_reader(reader, servers[i % 2])

    tally, stop = Tally(), asyncio.Event()
    senders = readers[:SENDERS]
    churners = readers[SENDERS:]
    tasks = [
        asyncio.create_task(
            send_steadily(s, servers, tally, rate=RATE_PER_SENDER, seconds=SECONDS, stop=stop)
        )
        for s in senders
    ]
    churning = asyncio.create_task(churn(churners, servers, tally, per_second=5, stop=stop))
    await asyncio.gather(*tasks)
    stop.set()
    await churning
    await asyncio.sleep(1.0)  # let the last broadcasts land

    result = await verdict(readers, app)
    await close_all(readers)
    catch_ups = sum(reader.catch_ups for reader in readers)
    reread = sum(reader.reread for reader in readers)
    print(
        f"\nsoak: {CLIENTS} clients, {SECONDS:.0f} s, sent {tally.sent}, acked {tally.acked}, "
        f"retried {tally.failed_attempts}, reconnects {tally.reconnects}; {result}; "
        f"{catch_ups} catch-ups re-read {reread / max(catch_ups, 1):.1f} messages each"
    )
    assert tally.acked == tally.sent
    assert result.stored == tally.sent
    assert result.lost == 0
    assert result.duplicated_in_history == 0
    assert result.live_duplicates == 0
    assert result.reordered == 0
