"""Redis Cluster safety: every script and multi-key operation keeps its keys in one hash slot
(the slots computed with redis-py's own key_slot, as the cluster client routes them), and every
store works against a real local 3-primary cluster (tests/redis_cluster.py), where a key in
another slot answers MOVED and a script across slots answers CROSSSLOT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import RedisCluster
from redis.crc import key_slot

from parley.container import open_redis
from parley.errors import BACKEND_ERRORS, backend_unavailable
from parley.storage.presence import PresenceEntry, PresenceStore
from parley.storage.redis_keys import address_tag, user_tag
from parley.storage.rooms import RoomQuota
from parley.storage.sends import DeliveryMarks, SendLedger, gate_keys
from parley.storage.sessions import SessionStore
from parley.storage.stream_state import StreamCheckpoints, StreamLease
from parley.storage.throttle import (
    LoginLimits,
    LoginThrottle,
    RegistrationThrottle,
    account_keys,
    pair_keys,
)
from tests.redis_cluster import LocalCluster, start_cluster
from tests.unit.support import make_message

# Names that would split a naive tag: braces, case, a colon-rich IPv6 address.
NAMES = ["ada", "Ada", "a}b", "{x}", "}{", "élodie", "u" * 32]
ADDRESSES = ["192.0.2.1", "2001:db8::1", "}", "{a}"]


def one_slot(keys: list[str]) -> bool:
    return len({key_slot(key.encode()) for key in keys}) == 1


@pytest.mark.parametrize("name", NAMES)
def test_the_send_gate_keys_share_the_senders_slot(name: str) -> None:
    for room in ("general", "a-room", "{r}"):
        keys = gate_keys(make_message(username=name, room=room, client_id="c{1}"))
        assert one_slot(keys), keys
    # Any case of the name: one user, one slot.
    assert key_slot(user_tag(name).encode()) == key_slot(user_tag(name.upper()).encode())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("address", ADDRESSES)
def test_each_login_script_touches_one_slot(name: str, address: str) -> None:
    assert one_slot(pair_keys(name, address))
    assert one_slot(account_keys(name))
    assert address_tag(address) in pair_keys(name, address)[0]


def test_users_spread_over_the_slots() -> None:
    # Tags per user, not one tag for everything: the keys still spread over the shards.
    slots = {key_slot(user_tag(f"user{n}").encode()) for n in range(100)}
    assert len(slots) > 90


# --- against a real cluster -----------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    started = start_cluster(Path(tmp_path_factory.mktemp("cluster")))
    yield started
    started.stop()


@pytest.fixture
async def redis(cluster: LocalCluster) -> AsyncIterator[RedisCluster]:
    client = open_redis(cluster.url, cluster=True)
    assert isinstance(client, RedisCluster)
    await client.flushdb()  # every primary
    yield client
    await client.aclose()


async def test_the_keys_of_many_users_land_on_every_primary(redis: RedisCluster) -> None:
    for n in range(30):
        await SendLedger(redis, rate_per_second=10, burst=10).admit(
            make_message(username=f"user{n}", client_id="c1")
        )
    holders = [await redis.dbsize(target_nodes=node) for node in redis.get_primaries()]
    assert len(holders) == 3
    assert all(held > 0 for held in holders)


async def test_sessions_work_across_slots(redis: RedisCluster) -> None:
    ticks = iter(range(1_000_000, 2_000_000, 10))  # logins in a known order
    sessions = SessionStore(redis, ttl_seconds=60, max_per_user=2, clock=lambda: next(ticks))
    first, second = await sessions.create("ada"), await sessions.create("ada")
    assert (await sessions.touch(first.key)) == first
    assert await sessions.which_alive([first.key, second.key, "gone"]) == [True, True, False]
    third = await sessions.create("ada")  # past the cap of 2: the oldest ends
    assert await sessions.touch(first.key) is None
    assert {info.id for info in await sessions.for_user("ADA")} == {second.id, third.id}
    assert [info.id for info in await sessions.end_others("ada", keep=third)] == [second.id]
    await sessions.delete(third.key)
    assert await sessions.for_user("ada") == []


async def test_the_send_gate_works_on_a_cluster(redis: RedisCluster) -> None:
    limited = SendLedger(redis, rate_per_second=1, burst=1)
    assert (await limited.admit(make_message(username="Bob", client_id="c1"))).outcome == (
        "admitted"
    )
    assert (await limited.admit(make_message(username="bob", client_id="c2"))).outcome == (
        "limited"
    )
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    message = make_message(username="Ada", client_id="c1")
    assert (await ledger.admit(message)).outcome == "admitted"
    assert (await ledger.admit(message)).outcome == "pending"
    await ledger.release(message)
    assert (await ledger.admit(message)).outcome == "admitted"
    await ledger.record(message)
    assert (await ledger.admit(message)).outcome == "stored"
    marks = DeliveryMarks(redis)
    assert not await marks.claim_delivery(message)  # the gate marked it
    await marks.unclaim_delivery(message)
    assert await marks.claim_delivery(message)


async def test_login_throttling_works_on_a_cluster(redis: RedisCluster) -> None:
    throttle = LoginThrottle(redis, LoginLimits(2, 10, 20, 600, 2))
    assert await throttle.reserve(account="ada", address="2001:db8::1") is None
    assert await throttle.reserve(account="ada", address="2001:db8::1") is None
    assert await throttle.reserve(account="ada", address="2001:db8::1") is not None
    await throttle.succeeded(account="ada", address="2001:db8::1")
    assert (await throttle.failed(account="ada", address="192.0.2.1")).alert is False
    assert (await throttle.failed(account="ada", address="192.0.2.2")).alert is True
    registrations = RegistrationThrottle(redis, per_address=1, window_seconds=60)
    assert await registrations.reserve("192.0.2.1") is None
    assert await registrations.reserve("192.0.2.1") is not None


async def test_presence_quota_and_stream_state_work_on_a_cluster(redis: RedisCluster) -> None:
    presence = PresenceStore(redis)
    entries = [PresenceEntry(f"room{n}", f"sid{n}", f"user{n}") for n in range(6)]
    for entry in entries:
        assert await presence.add(entry) == [entry.username]
    await presence.refresh(entries)  # one pipeline over many slots
    assert await presence.remove(entries[0]) == []
    quota = RoomQuota(redis, per_day=1)
    assert await quota.take("ada") is None
    assert await quota.take("ada") is not None
    lease = StreamLease(redis, table="messages", holder="me")
    assert await lease.hold()
    assert not await StreamLease(redis, table="messages", holder="other").hold()
    await lease.release()
    checkpoints = StreamCheckpoints(redis, stream_arn="arn:stream")
    await checkpoints.mark_started()
    await checkpoints.save("shard-1", "42")
    assert await checkpoints.load() == (True, {"shard-1": "42"})


async def test_concurrent_sends_of_many_users_all_pass_the_gate(redis: RedisCluster) -> None:
    ledger = SendLedger(redis, rate_per_second=1000, burst=1000)
    results = await asyncio.gather(
        *(ledger.admit(make_message(username=f"u{n}", client_id=f"c{n}")) for n in range(200))
    )
    assert {result.outcome for result in results} == {"admitted"}


async def test_a_cluster_out_of_reach_is_a_backend_error() -> None:
    # Answered 503 `unavailable` and logged with the reason, never a 500.
    redis = open_redis("redis://127.0.0.1:1/0", cluster=True)
    with pytest.raises(BACKEND_ERRORS) as raised:
        await SessionStore(redis, ttl_seconds=60).touch("a-key")
    assert backend_unavailable(raised.value, None).status == 503
    await redis.aclose()
