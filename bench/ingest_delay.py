"""Scenario 2's delay: from an outside producer's `put_item` into the messages table to a
connected client receiving the message, through `parley serve`'s stream consumer.

    .venv/bin/python -m bench.ingest_delay [--items 50]

Starts its own Redis, DynamoDB endpoint and `parley serve` (bench/stack.py), connects one
authenticated client to room `general`, then writes the items one at a time with boto3 (as
`parley ingest` does) and times each until the client has it. Prints median and worst."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx

from bench.lean_client import LeanSocket
from bench.stack import REPO, Stack, start_stack
from parley.config import load_settings
from parley.ingest.producer import put_message

RESULTS = REPO / "bench" / "results"


async def measure(items: int, stack: Stack) -> list[float]:
    server = stack.start_parley(fds=1024)
    credentials = {"username": "ingest_probe", "password": "probe-password"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        await http.post("/api/auth/register", json=credentials)
        cookie = (await http.post("/api/auth/login", json=credentials)).cookies["parley_session"]
    arrivals: dict[str, float] = {}
    arrived = asyncio.Event()

    def on_event(_: LeanSocket, event: str, data: Any, __: int) -> None:
        if event == "message":
            arrivals[data["id"]] = time.perf_counter()
            arrived.set()

    settings = load_settings(
        dynamodb_endpoint=stack.env["PARLEY_DYNAMODB_ENDPOINT"],
        table_prefix=stack.env["PARLEY_TABLE_PREFIX"],
    )
    os.environ.update({k: stack.env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
    delays: list[float] = []
    async with aiohttp.ClientSession() as session:
        client = LeanSocket(on_event)
        await client.connect(session, server.url, cookie=cookie)
        await client.call("join", {"room": "general"})
        await asyncio.sleep(1.0)  # the consumer has started reading the stream
        for n in range(items):
            started = time.perf_counter()
            stored = await asyncio.to_thread(
                put_message, settings, room="general", username="outsider", text=f"item {n}"
            )
            while stored["id"] not in arrivals:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), 10)
            delays.append((arrivals[stored["id"]] - started) * 1000)
        await client.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    day = datetime.now(UTC).date().isoformat()
    stack = start_stack(RESULTS / "tmp" / day / "ingest", message_rate=1000)
    try:
        delays = asyncio.run(measure(args.items, stack))
    finally:
        stack.stop()
    summary = {
        "items": len(delays),
        "median_ms": round(statistics.median(delays), 1),
        "worst_ms": round(max(delays), 1),
        "best_ms": round(min(delays), 1),
    }
    (RESULTS / f"{day}-ingest.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"put_item -> client, {summary['items']} items: median {summary['median_ms']} ms, "
        f"worst {summary['worst_ms']} ms (best {summary['best_ms']} ms)"
    )


if __name__ == "__main__":
    main()
