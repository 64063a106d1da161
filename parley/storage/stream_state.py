"""The stream consumer's shared state in Redis: a lease so one instance at a time reads the
stream, and per-shard checkpoints so a restart resumes where the last reader stopped."""

from __future__ import annotations

from parley.storage.redis_keys import RedisClient

# The holder renews well inside the lease; another instance takes over within LEASE_MS of
# the holder's death.
LEASE_MS = 10_000

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Marks a stream whose reading has begun, so a shard without a checkpoint is read from its
# start (it is new) rather than from "now" (the very first start of a deployment).
_STARTED_FIELD = "*started*"


class StreamLease:
    def __init__(self, redis: RedisClient, *, table: str, holder: str) -> None:
        self._redis = redis
        self._key = f"ingest:lease:{table}"
        self._holder = holder
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take the lease if free, extend it if ours; False while another instance has it."""
        return bool(await self._renew(keys=[self._key], args=[self._holder, LEASE_MS]))

    async def release(self) -> None:
        await self._release(keys=[self._key], args=[self._holder])


class StreamCheckpoints:
    def __init__(self, redis: RedisClient, *, stream_arn: str) -> None:
        self._redis = redis
        self._key = f"ingest:checkpoint:{stream_arn}"

    async def load(self) -> tuple[bool, dict[str, str]]:
        """(whether this stream was read before, last sequence number done per shard)."""
        stored = {str(k): str(v) for k, v in (await self._redis.hgetall(self._key)).items()}
        started = stored.pop(_STARTED_FIELD, None) is not None
        return started, stored

    async def mark_started(self) -> None:
        await self._redis.hset(self._key, _STARTED_FIELD, "1")

    async def save(self, shard_id: str, sequence_number: str) -> None:
        await self._redis.hset(self._key, shard_id, sequence_number)
