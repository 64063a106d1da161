"""The stream consumer inside the app: follows every shard of the messages table's stream,
with a lease so one instance reads at a time and checkpoints so a restart resumes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parley.cancellation import stop_if_cancelled
from parley.ingest.pipeline import Deliveries, IngestStats, process_records
from parley.mentions import Mentions
from parley.messaging import Broadcaster
from parley.metrics import Metrics
from parley.storage.dynamo import DynamoClient
from parley.storage.stream_state import LEASE_MS, StreamCheckpoints, StreamLease

log = logging.getLogger(__name__)

# DynamoDB Streams allows about 5 GetRecords calls per second per shard; a shard is polled 4
# times a second (as Lambda's event source mapping does), which bounds the delay of an outside
# write to ~250 ms plus work. Only a full page (a backlog) is followed by the next poll at once:
# polling after every non-empty page kept a busy table's endpoint answering GetRecords back to
# back, beside the writes it serves (README.md, "Latest run").
POLL_SECONDS = 0.25
RECORDS_PER_POLL = 1000
LEASE_RENEW_SECONDS = LEASE_MS / 1000 / 3
# New shards appear when DynamoDB splits or rolls one over (about every few hours).
SHARD_REFRESH_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 10.0
# A table without a stream (an endpoint without Streams, or streams turned off) is looked at
# again this often, in case one is turned on.
NO_STREAM_RECHECK_SECONDS = 60.0
_RESTART_ITERATOR = {"ExpiredIteratorException", "TrimmedDataAccessException"}
_THROTTLED = {"LimitExceededException", "ProvisionedThroughputExceededException"}


class NoStream(Exception):
    """The messages table has no stream to read."""


@dataclass
class Shard:
    id: str
    parent: str | None
    iterator: str | None = None
    done: bool = False


@dataclass
class StreamReader:
    """One stream, read shard by shard in parent-before-child order."""

    arn: str
    checkpoints: StreamCheckpoints
    shards: dict[str, Shard] = field(default_factory=dict)


class StreamConsumer:
    def __init__(
        self,
        *,
        dynamo: DynamoClient,
        streams: DynamoClient,
        table: str,
        lease: StreamLease,
        checkpoints_for: Callable[[str], StreamCheckpoints],
        deliveries: Deliveries,
        broadcaster: Broadcaster,
        mentions: Mentions,
        metrics: Metrics,
    ) -> None:
        self._dynamo = dynamo
        self._streams = streams
        self._table = table
        self._lease = lease
        self._checkpoints_for = checkpoints_for
        self._deliveries = deliveries
        self._broadcaster = broadcaster
        self._mentions = mentions
        self._metrics = metrics
        self.stats = IngestStats()
        self._said_no_stream = False

    async def run(self) -> None:
        """Forever: hold the lease, then read; on errors back off and start again."""
        backoff = 0.5
        while True:
            try:
                stop_if_cancelled()
                if await self._lease.hold():
                    await self._read_while_leased()
                else:
                    await asyncio.sleep(LEASE_RENEW_SECONDS)
                backoff = 0.5
            except asyncio.CancelledError:
                await self._release_quietly()
                raise
            except NoStream:
                await self._wait_for_a_stream()
            except Exception as exc:
                log.warning("stream consumer: %s; retrying in %.1f s", _describe(exc), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _wait_for_a_stream(self) -> None:
        """Say it once, then look again now and then, silently."""
        if not self._said_no_stream:
            log.warning(
                "stream consumer: table %s has no stream, so live delivery of items written "
                "outside the app is off",
                self._table,
            )
            self._said_no_stream = True
        await self._release_quietly()
        await asyncio.sleep(NO_STREAM_RECHECK_SECONDS)

    async def _release_quietly(self) -> None:
        try:
            await asyncio.shield(self._lease.release())
        except Exception as exc:
            log.info("stream consumer: lease not released (%s); it expires", exc)

    async def _read_while_leased(self) -> None:
        arn = await self._stream_arn()
        log.info("stream consumer: lease taken, reading %s", self._table)
        self._said_no_stream = False
        reader = StreamReader(arn=arn, checkpoints=self._checkpoints_for(arn))
        await self._refresh_shards(reader)
        loop = asyncio.get_running_loop()
        renew_at = loop.time() + LEASE_RENEW_SECONDS
        refresh_at = loop.time() + SHARD_REFRESH_SECONDS
        while True:
            stop_if_cancelled()
            if loop.time() >= renew_at:
                if not await self._lease.hold():
                    log.info("stream consumer: lease lost, standing by")
                    return
                renew_at = loop.time() + LEASE_RENEW_SECONDS
            if not await self._poll_once(reader):
                await self._between_polls()
            if loop.time() >= refresh_at:
                await self._refresh_shards(reader)
                refresh_at = loop.time() + SHARD_REFRESH_SECONDS

    async def _between_polls(self) -> None:
        await asyncio.sleep(POLL_SECONDS)

    async def _stream_arn(self) -> str:
        table = await self._dynamo.describe_table(TableName=self._table)
        arn = table["Table"].get("LatestStreamArn")
        if not arn:
            raise NoStream(self._table)
        return str(arn)

    async def _refresh_shards(self, reader: StreamReader) -> None:
        """Learn new shards (DynamoDB splits and rolls them over time)."""
        started, checkpoints = await reader.checkpoints.load()
        found: list[dict[str, Any]] = []
        start_after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": reader.arn}
            if start_after:
                kwargs["ExclusiveStartShardId"] = start_after
            description = (await self._streams.describe_stream(**kwargs))["StreamDescription"]
            found.extend(description.get("Shards", []))
            start_after = description.get("LastEvaluatedShardId")
            if not start_after:
                break
        for raw in found:
            if raw["ShardId"] in reader.shards:
                continue
            shard = Shard(id=raw["ShardId"], parent=raw.get("ParentShardId"))
            shard.iterator = await self._iterator(reader, shard, started, checkpoints)
            reader.shards[shard.id] = shard
            log.info("stream consumer: following shard %s", shard.id)
        if not started:
            await reader.checkpoints.mark_started()

    async def _iterator(
        self, reader: StreamReader, shard: Shard, started: bool, checkpoints: dict[str, str]
    ) -> str | None:
        kwargs: dict[str, Any] = {"StreamArn": reader.arn, "ShardId": shard.id}
        done = checkpoints.get(shard.id)
        if done is not None:
            kwargs |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
        else:
            # First start of a deployment: from now on. A shard that appeared later: all of it.
            kwargs["ShardIteratorType"] = "TRIM_HORIZON" if started else "LATEST"
        try:
            response = await self._streams.get_shard_iterator(**kwargs)
        except ClientError as exc:
            if _code(exc) != "TrimmedDataAccessException":
                raise
            kwargs = {"StreamArn": reader.arn, "ShardId": shard.id}
            response = await self._streams.get_shard_iterator(
                **kwargs, ShardIteratorType="TRIM_HORIZON"
            )
        iterator: str | None = response.get("ShardIterator")
        return iterator

    async def _poll_once(self, reader: StreamReader) -> bool:
        """One GetRecords per readable shard; True if any is behind (read again at once)."""
        behind = False
        for shard in list(reader.shards.values()):
            if shard.done or shard.iterator is None or self._waiting_for_parent(reader, shard):
                continue
            behind |= await self._read_shard(reader, shard)
        return behind

    def _waiting_for_parent(self, reader: StreamReader, shard: Shard) -> bool:
        parent = reader.shards.get(shard.parent) if shard.parent else None
        return parent is not None and not parent.done

    async def _read_shard(self, reader: StreamReader, shard: Shard) -> bool:
        """One page of the shard; True if the shard has more waiting (a full page) or its
        iterator had to be restarted."""
        try:
            response = await self._streams.get_records(
                ShardIterator=shard.iterator, Limit=RECORDS_PER_POLL
            )
        except ClientError as exc:
            if _code(exc) in _RESTART_ITERATOR:
                _, checkpoints = await reader.checkpoints.load()
                shard.iterator = await self._iterator(reader, shard, True, checkpoints)
                return True
            raise
        records = response.get("Records", [])
        if records:
            before = replace(self.stats)
            await process_records(
                records,
                deliveries=self._deliveries,
                broadcaster=self._broadcaster,
                mentions=self._mentions,
                stats=self.stats,
            )
            await reader.checkpoints.save(shard.id, records[-1]["dynamodb"]["SequenceNumber"])
            self._observe(records[-1], before)
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.done = True
            log.info("stream consumer: shard %s closed and read to its end", shard.id)
        return len(records) >= RECORDS_PER_POLL

    def _observe(self, newest: dict[str, Any], before: IngestStats) -> None:
        for outcome in ("delivered", "duplicates", "invalid", "ignored"):
            done = getattr(self.stats, outcome) - getattr(before, outcome)
            if done:
                self._metrics.stream_records.labels(outcome).inc(done)
        self._metrics.messages_broadcast.labels("stream").inc(
            self.stats.delivered - before.delivered
        )
        created = newest["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            self._metrics.stream_lag_seconds.set(max(time.time() - created.timestamp(), 0.0))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError) and _code(exc) in _THROTTLED:
        return "stream throttled"
    return f"{type(exc).__name__}: {exc}"
