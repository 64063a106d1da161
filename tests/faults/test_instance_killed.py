"""An app instance is SIGKILLed mid-traffic: its clients reconnect to the other instance and
catch up; nothing acknowledged is missing and nothing is stored twice."""

from __future__ import annotations

import asyncio
import secrets

from tests.conftest import StartApp
from tests.faults.churn import (
    Reader,
    Tally,
    close_all,
    connect_reader,
    create_room,
    keep_connected,
    make_people,
    send_steadily,
    verdict,
)
from tests.servers import AppServer


async def test_killed_instance_loses_nothing_acked(app: AppServer, start_server: StartApp) -> None:
    victim = start_server()
    servers = [app, victim]
    people = await make_people(app, 24)
    room = await create_room(app, people[0][1], f"kill {secrets.token_hex(3)}")
    readers = [Reader(username, cookie, room) for username, cookie in people]
    for i, reader in enumerate(readers):
        await connect_reader(reader, servers[i % 2])  # half of them on the victim

    tally, stop = Tally(), asyncio.Event()
    senders = readers[:8]
    sending = [
        asyncio.create_task(send_steadily(s, servers, tally, rate=4, seconds=8, stop=stop))
        for s in senders
    ]
    watchdog = asyncio.create_task(keep_connected(readers, servers, stop))
    await asyncio.sleep(3)
    victim.process.kill()
    victim.process.wait()
    await asyncio.gather(*sending)
    stop.set()
    await watchdog
    await asyncio.sleep(1.0)

    result = await verdict(readers, app)
    await close_all(readers)
    print(
        f"\nkill: sent {tally.sent}, acked {tally.acked}, retried {tally.failed_attempts}; {result}"
    )
    assert tally.acked == tally.sent
    assert result.stored == tally.sent  # every acked message once, nothing half-stored
    assert result.lost == 0
    assert result.duplicated_in_history == 0
