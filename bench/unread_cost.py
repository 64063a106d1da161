"""What counting unread messages costs (docs/design/conversations.md, "Read state"): the bounded
query the room list runs per room, against the alternative of a counter on each member item
(one write per member per message on the send path). Against a local DynamoDB endpoint (moto,
started here) unless PARLEY_DYNAMODB_ENDPOINT is set:

    .venv/bin/python -m bench.unread_cost

It prints, per case, the items read and the median time of the query, and the writes and time
the counter would add to one send."""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from parley.config import load_settings
from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.models import Message
from parley.storage.dynamo import DynamoClient, TableNames, create_missing_tables, open_client
from parley.storage.messages import MessageStore, to_item

RUNS = 20
ROOM_MESSAGES = 1000


async def _seed(client: DynamoClient, table: str, room: str, authors: list[str]) -> list[str]:
    ids = []
    for n, author in enumerate(authors):
        message_id = new_ulid()
        created = iso_utc(ulid_datetime(message_id))
        message = Message(message_id, room, author, f"message {n}", created)
        await client.put_item(TableName=table, Item=to_item(message))
        ids.append(message_id)
    return ids


async def _median_ms(job: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await job()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def measure(endpoint: str) -> list[str]:
    settings = load_settings(
        dynamodb_endpoint=endpoint, table_prefix=f"bench-{secrets.token_hex(3)}-"
    )
    names = TableNames.with_prefix(settings.table_prefix)
    lines = ["| case | items read | median ms |", "|---|---|---|"]
    async with open_client(settings) as client:
        await create_missing_tables(client, names)
        store = MessageStore(client, names.messages)
        room = "bench"
        ids = await _seed(client, names.messages, room, ["bob"] * ROOM_MESSAGES)
        await _seed(client, names.messages, "own", ["ada"] * 400 + ["bob"] * 5)
        cases = [
            ("caught up (marker at the newest)", room, ids[-1]),
            ("10 unread", room, ids[-11]),
            (f"{ROOM_MESSAGES} unread (capped at 100)", room, None),
            ("400 own + 5 others' after the marker", "own", None),
        ]
        for label, room_id, marker in cases:
            counts = await store.read_counts(room_id, after=marker, reader="ada")

            async def query(room_id: str = room_id, marker: str | None = marker) -> None:
                await store.read_counts(room_id, after=marker, reader="ada")

            lines.append(
                f"| query: {label} | {counts.items_read} | {await _median_ms(query):.1f} |"
            )
        for members in (10, 100):
            keys = [{"room": {"S": room}, "user": {"S": f"user{n}"}} for n in range(members)]

            async def counter(keys: list[dict[str, dict[str, str]]] = keys) -> None:
                for key in keys:
                    await client.update_item(
                        TableName=names.members,
                        Key=key,
                        UpdateExpression="ADD unread :one",
                        ExpressionAttributeValues={":one": {"N": "1"}},
                    )

            ms = await _median_ms(counter)
            lines.append(
                f"| counter: one send to a room of {members} (writes) | {members} | {ms:.1f} |"
            )
        for name in names.all():
            await client.delete_table(TableName=name)
    return lines


def main() -> None:
    endpoint = os.environ.get("PARLEY_DYNAMODB_ENDPOINT")
    if endpoint:
        print("\n".join(asyncio.run(measure(endpoint))))
        return
    from parley.devstack.services import http_url, start_dynamodb

    service = start_dynamodb(Path(tempfile.mkdtemp()) / "dynamodb")
    try:
        print("\n".join(asyncio.run(measure(http_url(service)))))
    finally:
        service.stop()


if __name__ == "__main__":
    main()
