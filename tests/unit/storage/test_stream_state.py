"""The stream consumer's lease (one reader at a time) and per-shard checkpoints."""

from __future__ import annotations

from redis.asyncio import Redis

from parley.storage.stream_state import LEASE_MS, StreamCheckpoints, StreamLease


async def test_one_holder_at_a_time(redis: Redis) -> None:
    first = StreamLease(redis, table="messages", holder="a")
    second = StreamLease(redis, table="messages", holder="b")
    assert await first.hold()
    assert await first.hold()  # renewed
    assert not await second.hold()
    assert LEASE_MS - 100 <= await redis.pttl("ingest:lease:messages") <= LEASE_MS


async def test_a_released_lease_is_free(redis: Redis) -> None:
    first = StreamLease(redis, table="messages", holder="a")
    second = StreamLease(redis, table="messages", holder="b")
    await first.hold()
    await second.release()  # not its lease: nothing happens
    assert not await second.hold()
    await first.release()
    assert await second.hold()


async def test_leases_are_per_table(redis: Redis) -> None:
    assert await StreamLease(redis, table="one", holder="a").hold()
    assert await StreamLease(redis, table="two", holder="b").hold()


async def test_checkpoints_remember_start_and_shards(redis: Redis) -> None:
    checkpoints = StreamCheckpoints(redis, stream_arn="arn:stream/1")
    assert await checkpoints.load() == (False, {})
    await checkpoints.mark_started()
    await checkpoints.save("shard-1", "100")
    await checkpoints.save("shard-1", "200")
    await checkpoints.save("shard-2", "50")
    again = StreamCheckpoints(redis, stream_arn="arn:stream/1")
    assert await again.load() == (True, {"shard-1": "200", "shard-2": "50"})
    assert await StreamCheckpoints(redis, stream_arn="arn:stream/2").load() == (False, {})
