"""Sharded fan-out against the one broadcast channel (issue #15), side by side in one run.

Two sets of 4 `parley serve` instances run at once on one Redis and one DynamoDB endpoint:
`PARLEY_BUS=sharded` on Redis database 0, `PARLEY_BUS=broadcast` on database 1 (pub/sub channels
carry the database number, so the sets never hear each other). 40 rooms are spread over each
set the same way: room r's two clients are on instance r % 4, or in one room of two, one there
and one on the next instance. One client per room sends at a steady rate for a fixed time, on
both sets at once, so both see the same machine. Each instance reports the broadcasts it
received from Redis (`parley_bus_messages_received_total` at /metrics, its own echoes
included) and its CPU (psutil) over the sending window.

"Its rooms' messages" is what an instance must hear: the messages sent in the rooms where it
holds a client. With the sharded bus what each receives follows that; with the broadcast channel
every instance receives the total.

    .venv/bin/python -m bench.sharded [--rate 1.5] [--seconds 20] [--out bench/results]

Nothing is sent anywhere but 127.0.0.1; every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from bench.lean_client import LeanSocket
from bench.stack import Server, Stack, start_stack

INSTANCES = 4
ROOMS = 40
MODES = ("sharded", "broadcast")
SERVER_FDS = 4096
RECEIVED = "parley_bus_messages_received_total"
HEADER = (
    "| bus | instance | rooms here | channels held | its rooms' messages "
    "| received from Redis | CPU % of a core |"
)


@dataclass(frozen=True)
class Member:
    username: str
    cookies: dict[str, str]  # per bus: each set of instances has its own Redis database
    room: str
    instance: int
    sends: bool


def placement(rooms: int, instances: int) -> list[tuple[int, int]]:
    """The instances of each room's two clients: room r is on instance r % instances; one room
    in two also has its second client on the next instance."""
    return [(r % instances, (r + (r // instances) % 2) % instances) for r in range(rooms)]


async def login(http: aiohttp.ClientSession, url: str, username: str) -> str:
    body = {"username": username, "password": "correct horse battery"}
    async with http.post(f"{url}/api/auth/login", json=body) as response:
        assert response.status == 200, await response.text()
        return response.cookies["parley_session"].value


async def sign_up(http: aiohttp.ClientSession, url: str, username: str) -> str:
    body = {"username": username, "password": "correct horse battery"}
    async with http.post(f"{url}/api/auth/register", json=body) as response:
        assert response.status == 201, await response.text()
    return await login(http, url, username)


async def prepare(first: dict[str, Server], rooms: int, instances: int) -> list[Member]:
    """Users and rooms (in the shared tables, made by each room's sender), and a session of
    each user in each set's Redis database."""
    run = secrets.token_hex(3)
    made, other = first["sharded"], first["broadcast"]
    members: list[Member] = []
    async with aiohttp.ClientSession() as http:
        for r, (home, second) in enumerate(placement(rooms, instances)):
            room = f"shard-{run}-{r}"
            for role, instance in (("a", home), ("b", second)):
                name = f"s{run}r{r}{role}"
                cookies = {
                    "sharded": await sign_up(http, made.url, name),
                    "broadcast": await login(http, other.url, name),
                }
                if role == "a":
                    headers = {"Cookie": f"parley_session={cookies['sharded']}", "Origin": made.url}
                    body = {"name": room}
                    async with http.post(f"{made.url}/api/rooms", json=body, headers=headers) as rs:
                        assert rs.status == 201, await rs.text()
                members.append(Member(name, cookies, room, instance, role == "a"))
    return members


async def metric(http: aiohttp.ClientSession, server: Server, name: str) -> float:
    async with http.get(f"{server.url}/metrics") as response:
        text = await response.text()
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def cpu_seconds(server: Server) -> float:
    times = psutil.Process(server.pid).cpu_times()
    return float(times.user + times.system)


def start_set(stack: Stack, mode: str, database: int) -> list[Server]:
    """4 instances with this bus, on their own Redis database (pub/sub channels carry the
    database number, so the two sets never hear each other)."""
    base = stack.env["PARLEY_REDIS_URL"].rsplit("/", 1)[0]
    stack.env |= {
        "PARLEY_BUS": mode,
        "PARLEY_REDIS_URL": f"{base}/{database}",
        "PARLEY_STREAM_CONSUMER": "false",  # no stream polling in the CPU figures
    }
    return [stack.start_parley(fds=SERVER_FDS) for _ in range(INSTANCES)]


async def run_both(
    sets: dict[str, list[Server]], members: list[Member], rate: float, seconds: float
) -> list[dict[str, Any]]:
    """The same clients, rooms and sends on both sets at once, so they share the machine's
    conditions; per instance, what it received from Redis and its CPU over the window."""
    sockets: dict[str, list[LeanSocket]] = {mode: [] for mode in sets}
    try:
        # No cap on connections (aiohttp's default is 100: the 101st WebSocket would wait).
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            for mode, servers in sets.items():
                for member in members:
                    socket = LeanSocket()
                    url = servers[member.instance].url
                    await socket.connect(http, url, cookie=member.cookies[mode])
                    ack = await socket.call("join", {"room": member.room})
                    assert ack.get("ok"), ack
                    sockets[mode].append(socket)
            await asyncio.sleep(2)  # the joins' presence broadcasts settle
            everyone = [
                (mode, i, s) for mode, servers in sets.items() for i, s in enumerate(servers)
            ]
            received0 = [await metric(http, s, RECEIVED) for _, _, s in everyone]
            cpu0 = [cpu_seconds(s) for _, _, s in everyone]
            t0 = time.monotonic()
            sent = await send_for(members, sockets, rate, seconds)
            await asyncio.sleep(1)  # the last broadcasts arrive
            elapsed = time.monotonic() - t0
            cpu1 = [cpu_seconds(s) for _, _, s in everyone]
            received1 = [await metric(http, s, RECEIVED) for _, _, s in everyone]
            channels = [await metric(http, s, "parley_bus_channels") for _, _, s in everyone]
    finally:
        for socket in (socket for group in sockets.values() for socket in group):
            await socket.close()
    results: dict[str, dict[str, Any]] = {
        mode: {"mode": mode, "sent": sum(sent[mode].values()), "seconds": round(elapsed, 1),
               "rows": []}
        for mode in sets
    }  # fmt: skip
    for n, (mode, i, _) in enumerate(everyone):
        rooms_here = {m.room for m in members if m.instance == i}
        results[mode]["rows"].append(
            {
                "instance": i,
                "rooms": len(rooms_here),
                "channels": int(channels[n]),
                "rooms_messages": sum(c for room, c in sent[mode].items() if room in rooms_here),
                "received": int(received1[n] - received0[n]),
                "cpu_pct": round(100 * (cpu1[n] - cpu0[n]) / elapsed, 1),
            }
        )
    return list(results.values())


async def send_for(
    members: list[Member], sockets: dict[str, list[LeanSocket]], rate: float, seconds: float
) -> dict[str, dict[str, int]]:
    """Each room's sender sends `rate` messages a second for `seconds` on both sets (open
    loop), then waits for the acks (30 s at most); the acknowledged messages per set and room."""
    sent: dict[str, dict[str, int]] = {mode: {} for mode in sockets}
    count = int(rate * seconds)
    expected = count * sum(1 for m in members if m.sends) * len(sockets)
    acks = 0
    refused: Counter[str] = Counter()
    all_acked = asyncio.Event()

    def acked(mode: str, room: str) -> Any:
        def on_ack(data: Any, _recv_ns: int) -> None:
            nonlocal acks
            acks += 1
            if acks >= expected:
                all_acked.set()
            if isinstance(data, dict) and data.get("ok"):
                sent[mode][room] = sent[mode].get(room, 0) + 1
            else:
                refused[str(data.get("code") if isinstance(data, dict) else data)] += 1

        return on_ack

    start = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(start + n / rate - time.monotonic(), 0))
        for mode, group in sockets.items():
            for member, socket in zip(members, group, strict=True):
                if member.sends:
                    text = {"room": member.room, "text": f"m{n}", "clientId": secrets.token_hex(8)}
                    await socket.emit("message", text, on_ack=acked(mode, member.room))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_acked.wait(), 30)
    if refused or acks < expected:
        print(f"sends: {expected} made, {acks} answered, refused by code: {dict(refused)}")
    return sent


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        HEADER,
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in result["rows"]:
            lines.append(
                f"| {result['mode']} | {row['instance']} | {row['rooms']} | {row['channels']} "
                f"| {row['rooms_messages']} | {row['received']} | {row['cpu_pct']} |"
            )
    for result in results:
        total_received = sum(row["received"] for row in result["rows"])
        total_cpu = sum(row["cpu_pct"] for row in result["rows"])
        lines.append(
            f"\n{result['mode']}: {result['sent']} messages acknowledged in {result['seconds']} s; "
            f"received by the 4 instances together {total_received}; their CPU together "
            f"{total_cpu:.1f}% of a core"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="parley-bench-sharded-") as workdir:
        stack = await asyncio.to_thread(start_stack, Path(workdir), message_rate=10_000)
        try:
            sets = {
                mode: await asyncio.to_thread(start_set, stack, mode, database)
                for database, mode in enumerate(MODES)
            }
            members = await prepare({m: s[0] for m, s in sets.items()}, ROOMS, INSTANCES)
            results = await run_both(sets, members, args.rate, args.seconds)
        finally:
            stack.stop()
    text = table(results)
    print(text)
    if args.out:
        write(Path(args.out), results, text)
    return 0


def write(out: Path, results: list[dict[str, Any]], text: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{datetime.now(UTC):%Y-%m-%d}-sharded"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    stem.with_suffix(".md").write_text(text + "\n")
    print(f"\nwritten: {stem}.json, {stem}.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sharded", description=__doc__)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per room")
    parser.add_argument("--seconds", type=float, default=20, help="sending time per mode")
    parser.add_argument("--out", default="bench/results", help="where to write the results")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
