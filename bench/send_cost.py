"""CPU of one message's own path, without sockets: what the server spends per send before any
fan-out, measured in this process against a real Redis and the local DynamoDB endpoint.

    .venv/bin/python -m bench.send_cost                # 400 sends per round, 3 rounds

Each send is what a `message` event costs the server besides the fan-out: the session check
(`SessionStore.touch`), the send gate (`SendLedger.admit`), the DynamoDB write, the ledger's
record and the publish to the other instances (`RedisEmitter`, as the stream Lambda
broadcasts). The DynamoDB write goes either through aiobotocore (`put_item`) or the direct
path (parley/storage/direct.py); the two alternate round by round on the same endpoint, 8 sends
in flight, so a busy machine slows both alike. Reported: this process's CPU time per send
(time.process_time) and the wall time per send."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path


async def measure(env: dict[str, str], sends: int, rounds: int, concurrency: int) -> None:
    from parley.config import load_settings
    from parley.container import Container
    from parley.mentions import Mentions
    from parley.messaging import Messenger
    from parley.storage.dynamo import open_direct
    from parley.storage.messages import MessageStore

    os.environ.update(env)
    settings = load_settings()
    async with (
        Container(settings).open() as running,
        open_direct(settings, running.services.dynamo) as direct,
    ):
        services = running.services
        session = await services.sessions.create("benchsender")
        paths = {"aiobotocore": None, "direct": direct}
        messengers = {
            name: Messenger(
                messages=MessageStore(services.dynamo, services.tables.messages, direct=path),
                ledger=services.ledger,
                broadcaster=running.broadcaster,
                mentions=Mentions(services.members, running.broadcaster),  # type: ignore[arg-type]
                metrics=services.metrics,
            )
            for name, path in paths.items()
        }

        async def one(messenger: Messenger) -> None:
            assert await services.sessions.touch(session.key) is not None
            await messenger.send(
                username="benchsender",
                room="general",
                text=f"{time.monotonic_ns()} a message of about sixty bytes, like the bench's",
                client_id=secrets.token_hex(8),
            )

        async def batch(messenger: Messenger, count: int) -> tuple[float, float]:
            limit = asyncio.Semaphore(concurrency)

            async def bounded() -> None:
                async with limit:
                    await one(messenger)

            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.gather(*(bounded() for _ in range(count)))
            return (time.process_time() - cpu) / count, (time.monotonic() - wall) / count

        for messenger in messengers.values():
            await batch(messenger, 30)  # warm-up: connections, scripts loaded
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in messengers}
        for r in range(rounds):
            for name, messenger in messengers.items():
                cpu, wall = await batch(messenger, sends)
                figures[name].append((cpu, wall))
                ms = f"CPU {cpu * 1e3:.2f} ms/send, wall {wall * 1e3:.2f} ms/send"
                print(f"round {r} {name:12} {ms}")
        for name, rows in figures.items():
            cpu = statistics.median(c for c, _ in rows)
            wall = statistics.median(w for _, w in rows)
            print(f"median {name:12} CPU {cpu * 1e3:.2f} ms/send, wall {wall * 1e3:.2f} ms/send")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    from bench.stack import start_stack

    stack = start_stack(Path(tempfile.mkdtemp(prefix="parley-send-cost-")), message_rate=10_000)
    try:
        import uvloop

        uvloop.run(measure(stack.env, args.sends, args.rounds, args.concurrency))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
