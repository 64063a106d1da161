"""Sharded fan-out against the one broadcast channel (issue #15), side by side in one run.

4 `parley serve` instances on one Redis, 40 rooms spread over them: room r's two clients are on
instance r % 4, or, for odd r, one there and one on the next instance. One client per room sends
at a steady rate for a fixed time. Each instance reports the broadcasts it received from Redis
(`parley_bus_messages_received_total` at /metrics, its own echoes included) and its CPU
(psutil) over the sending window; the same clients, rooms and load run once with
`PARLEY_BUS=sharded` and once with `PARLEY_BUS=broadcast`, each with fresh instances.

"Its rooms' messages" is what an instance must hear: the messages sent in the rooms where it
holds a client. With the sharded bus what each receives follows that; with the broadcast channel
every instance receives the total.

    .venv/bin/python -m bench.sharded [--rate 1.5] [--seconds 20] [--out bench/results]

Nothing is sent anywhere but 127.0.0.1; every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import sys
import tempfile
import time
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
    cookie: str
    room: str
    instance: int
    sends: bool


def placement(rooms: int, instances: int) -> list[tuple[int, int]]:
    """The instances of each room's two clients: even rooms on one, odd rooms on two."""
    return [(r % instances, (r + r % 2) % instances) for r in range(rooms)]


async def sign_up(http: aiohttp.ClientSession, url: str, username: str) -> str:
    body = {"username": username, "password": "correct horse battery"}
    async with http.post(f"{url}/api/auth/register", json=body) as response:
        assert response.status == 201, await response.text()
    async with http.post(f"{url}/api/auth/login", json=body) as response:
        assert response.status == 200, await response.text()
        return response.cookies["parley_session"].value


async def prepare(url: str, rooms: int, instances: int) -> list[Member]:
    """Users, their sessions and the rooms (made by each room's sender), once for both modes."""
    run = secrets.token_hex(3)
    members: list[Member] = []
    async with aiohttp.ClientSession() as http:
        for r, (first, second) in enumerate(placement(rooms, instances)):
            room = f"shard-{run}-{r}"
            sender = f"s{run}r{r}a"
            cookie = await sign_up(http, url, sender)
            headers = {"Cookie": f"parley_session={cookie}", "Origin": url}
            async with http.post(f"{url}/api/rooms", json={"name": room}, headers=headers) as resp:
                assert resp.status == 201, await resp.text()
            reader = f"s{run}r{r}b"
            members.append(Member(sender, cookie, room, first, True))
            members.append(Member(reader, await sign_up(http, url, reader), room, second, False))
    return members


async def metric(http: aiohttp.ClientSession, server: Server, name: str) -> float:
    async with http.get(f"{server.url}/metrics") as response:
        text = await response.text()
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def cpu_seconds(server: Server) -> float:
    times = psutil.Process(server.pid).cpu_times()
    return float(times.user + times.system)


async def one_mode(
    stack: Stack, members: list[Member], mode: str, rate: float, seconds: float
) -> dict[str, Any]:
    stack.env["PARLEY_BUS"] = mode
    stack.env["PARLEY_STREAM_CONSUMER"] = "false"  # no stream polling in the CPU figures
    servers = [
        await asyncio.to_thread(stack.start_parley, fds=SERVER_FDS) for _ in range(INSTANCES)
    ]
    sockets: list[LeanSocket] = []
    try:
        async with aiohttp.ClientSession() as http:
            for member in members:
                socket = LeanSocket()
                await socket.connect(http, servers[member.instance].url, cookie=member.cookie)
                ack = await socket.call("join", {"room": member.room})
                assert ack.get("ok"), ack
                sockets.append(socket)
            await asyncio.sleep(1)  # the joins' presence broadcasts settle
            received0 = [
                await metric(http, s, "parley_bus_messages_received_total") for s in servers
            ]
            cpu0 = [cpu_seconds(s) for s in servers]
            t0 = time.monotonic()
            sent = await send_for(members, sockets, rate, seconds)  # with its last acks
            cpu1 = [cpu_seconds(s) for s in servers]
            elapsed = time.monotonic() - t0
            received1 = [
                await metric(http, s, "parley_bus_messages_received_total") for s in servers
            ]
            channels = [await metric(http, s, "parley_bus_channels") for s in servers]
    finally:
        for socket in sockets:
            await socket.close()
        for server in servers:
            server.stop()
            stack.servers.remove(server)
    rows = []
    for i in range(INSTANCES):
        rooms_here = {m.room for m in members if m.instance == i}
        own = sum(count for room, count in sent.items() if room in rooms_here)
        rows.append(
            {
                "instance": i,
                "rooms": len(rooms_here),
                "channels": int(channels[i]),
                "rooms_messages": own,
                "received": int(received1[i] - received0[i]),
                "cpu_pct": round(100 * (cpu1[i] - cpu0[i]) / elapsed, 1),
            }
        )
    return {"mode": mode, "sent": sum(sent.values()), "seconds": round(elapsed, 1), "rows": rows}


async def send_for(
    members: list[Member], sockets: list[LeanSocket], rate: float, seconds: float
) -> dict[str, int]:
    """Each room's sender sends `rate` messages a second for `seconds` (open loop); returns the
    acknowledged messages per room."""
    sent: dict[str, int] = {}

    def acked(room: str) -> Any:
        def on_ack(data: Any, _recv_ns: int) -> None:
            if isinstance(data, dict) and data.get("ok"):
                sent[room] = sent.get(room, 0) + 1

        return on_ack

    count = int(rate * seconds)
    start = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(start + n / rate - time.monotonic(), 0))
        for member, socket in zip(members, sockets, strict=True):
            if member.sends:
                payload = {"room": member.room, "text": f"m{n}", "clientId": secrets.token_hex(8)}
                await socket.emit("message", payload, on_ack=acked(member.room))
    await asyncio.sleep(2)  # the last acks
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
            stack.env["PARLEY_BUS"] = "sharded"
            setup = await asyncio.to_thread(stack.start_parley, fds=SERVER_FDS)
            try:
                members = await prepare(setup.url, ROOMS, INSTANCES)
            finally:
                setup.stop()
                stack.servers.remove(setup)
            results = [
                await one_mode(stack, members, mode, args.rate, args.seconds) for mode in MODES
            ]
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
    parser.add_argument("--rate", type=float, default=1.5, help="messages/s per room")
    parser.add_argument("--seconds", type=float, default=20, help="sending time per mode")
    parser.add_argument("--out", default="bench/results", help="where to write the results")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
