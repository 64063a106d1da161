"""The Redis side of sending a message: per-user idempotency by clientId, the per-user rate
limit, and the "already delivered" mark that keeps the stream pipeline from delivering twice.

The gate's three keys are all tagged with the sender (`{u:<name>}`, parley/storage/redis_keys.py),
so on a Redis Cluster the one script that decides a send runs in one hash slot; the stream
pipeline knows the sender from the item, so it finds the delivered mark in the same slot."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import orjson

from parley.models import Message
from parley.storage.redis_keys import RedisClient, user_tag

# How long a clientId is remembered: docs/reference.md promises de-duplication for 48 h.
SENT_TTL_SECONDS = 2 * 24 * 3600
# DynamoDB Streams keep records for 24 h, so a delivered mark must outlive that.
DELIVERED_TTL_SECONDS = 2 * 24 * 3600
# The record of a clientId. While its message is being stored (its id drawn, the write under
# way: milliseconds), "p" + that message as JSON: a pending record names the exact message,
# text included, so whoever finds it orphaned (its sender's process died) can finish storing
# that message instead of a copy. Once stored, only where it is, "s|<room>|<id>": a repeat
# reads the message back from DynamoDB. The stored record is what stays for 48 h, so it stays
# small (about 100 bytes whatever the text; the whole message was up to 16 KB). A pending
# record keeps the 48 h too, since only a crash leaves one behind, and the retry after it must
# find it (the message may have been stored just before the crash).
_PENDING, _STORED = "p", "s|"

# One round trip decides a send: a known clientId returns its record; otherwise the per-user
# GCRA limit (https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm) admits or refuses
# it, and an admitted send records its clientId as pending and marks its id as delivered.
_GATE = """
local known = redis.call('GET', KEYS[1])
if known then return {'known', known} end
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now)
local tolerance = (burst - 1) * interval
if tat - now > tolerance then
  return {'limited', tostring(math.ceil(tat - tolerance - now))}
end
redis.call('SET', KEYS[2], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 1)
redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[5])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[6])
return {'admitted', ''}
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class MessageKey:
    """Where a stored message is: its key in the messages table."""

    room: str
    id: str


@dataclass(frozen=True, slots=True)
class GateResult:
    outcome: Literal["admitted", "stored", "pending", "limited"]
    message: Message | None = None  # "pending": the message being stored
    stored: MessageKey | None = None  # "stored": where the message of this clientId is
    retry_after_ms: int = 0


def delivered_key(username: str, room: str, message_id: str) -> str:
    return f"delivered:{user_tag(username)}:{room}:{message_id}"


def change_key(room: str, message_id: str, change: str) -> str:
    """The mark of one change to a message: the `changedAt` the app wrote, or `seq:<sequence
    number>` of the stream record of a change made outside (one key: any slot will do)."""
    return f"delivered:{room}:{message_id}:{change}"


def sent_key(username: str, client_id: str) -> str:
    return f"sent:{user_tag(username)}:{client_id}"


def rate_key(username: str) -> str:
    return f"ratelimit:{user_tag(username)}"


def gate_keys(intended: Message) -> list[str]:
    """The keys the send gate touches, in its script's order (one hash slot: the sender's)."""
    assert intended.client_id is not None
    return [
        sent_key(intended.username, intended.client_id),
        rate_key(intended.username),
        delivered_key(intended.username, intended.room, intended.id),
    ]


class SendLedger:
    def __init__(self, redis: RedisClient, *, rate_per_second: float, burst: int) -> None:
        self._redis = redis
        self._interval_ms = 1000 / rate_per_second
        self._burst = burst
        self._gate = redis.register_script(_GATE)
        self._release = redis.register_script(_RELEASE)

    async def admit(self, intended: Message) -> GateResult:
        keys = gate_keys(intended)
        args: list[str | float] = [
            time.time() * 1000,
            self._interval_ms,
            self._burst,
            _pending(intended),
            SENT_TTL_SECONDS,
            DELIVERED_TTL_SECONDS,
        ]
        outcome, detail = await self._gate(keys=keys, args=args)
        if outcome == "known":
            if detail.startswith(_STORED):
                # The id, a ULID, has no "|": the last one ends the room, whatever it holds.
                room, message_id = detail.removeprefix(_STORED).rsplit("|", 1)
                return GateResult("stored", stored=MessageKey(room, message_id))
            recorded = Message.from_json(orjson.loads(detail[1:]))
            if detail.startswith("s"):  # written before records shrank: "s" + the message
                return GateResult("stored", stored=MessageKey(recorded.room, recorded.id))
            return GateResult("pending", message=recorded)
        if outcome == "limited":
            return GateResult("limited", retry_after_ms=int(detail))
        return GateResult("admitted")

    async def record(self, message: Message) -> None:
        assert message.client_id is not None
        key = sent_key(message.username, message.client_id)
        await self._redis.set(key, f"{_STORED}{message.room}|{message.id}", ex=SENT_TTL_SECONDS)

    async def release(self, intended: Message) -> None:
        """Forget a pending record whose message was not stored, so a retry may store it."""
        assert intended.client_id is not None
        key = sent_key(intended.username, intended.client_id)
        await self._release(keys=[key], args=[_pending(intended)])


def _pending(message: Message) -> str:
    return _PENDING + orjson.dumps(message.to_json()).decode()


class DeliveryMarks:
    """For messages that arrive through the stream: whether one was delivered already."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def claim_delivery(self, message: Message) -> bool:
        """True exactly once per message."""
        key = delivered_key(message.username, message.room, message.id)
        claimed = await self._redis.set(key, "1", ex=DELIVERED_TTL_SECONDS, nx=True)
        return bool(claimed)

    async def unclaim_delivery(self, message: Message) -> None:
        """The broadcast after a claim failed: let the next attempt deliver it."""
        await self._redis.delete(delivered_key(message.username, message.room, message.id))

    async def claim_change(self, room: str, message_id: str, change: str) -> bool:
        """True exactly once per change of a message (an edit, a deletion, a reaction)."""
        claimed = await self._redis.set(
            change_key(room, message_id, change), "1", ex=DELIVERED_TTL_SECONDS, nx=True
        )
        return bool(claimed)

    async def unclaim_change(self, room: str, message_id: str, change: str) -> None:
        await self._redis.delete(change_key(room, message_id, change))
