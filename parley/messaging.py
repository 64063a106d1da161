"""Sending a message, the rules in one place: idempotency by clientId, the rate limit, storing
before acknowledging, and broadcasting each room's messages in id order."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Literal, Protocol

from parley.errors import ErrorCode, Refused, backend_unavailable
from parley.ids import iso_utc, new_ulid, ulid_datetime
from parley.metrics import Metrics
from parley.models import Message
from parley.storage.dynamo import StorageUnavailable
from parley.storage.messages import MessageStore
from parley.storage.sends import MessageKey, SendLedger

log = logging.getLogger(__name__)

# How long a repeat waits for its first copy, still being stored, before storing it itself
# (the first sender's process may have died; the client's ack timeout is about 10 s).
DUPLICATE_WAIT_SECONDS = 5.0
_DUPLICATE_POLL_SECONDS = 0.05


class Broadcaster(Protocol):
    async def message(self, message: Message) -> None: ...


AdmitState = Literal["admitted", "stored", "orphaned"]


class SendRefused(Refused):
    """The message was not stored; the text is shown to the sender."""


Broadcast = Callable[[], Awaitable[None]]
InTurn = Callable[[Broadcast], Awaitable[None]]


class RoomSequencer:
    """Broadcasts of one room leave this process in the order their ids were drawn, even when
    a later message is stored first: each send waits for the one before it."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def draw(self, room: str) -> tuple[str, InTurn]:
        """A new id for the room, and a function that runs a broadcast in that id's turn (or,
        called with a no-op, passes the turn on)."""
        previous = self._tails.get(room)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[room] = mine
        message_id = new_ulid()

        async def in_turn(broadcast: Broadcast) -> None:
            try:
                if previous is not None:
                    await asyncio.shield(previous)
                await broadcast()
            finally:
                mine.set_result(None)
                if self._tails.get(room) is mine:
                    del self._tails[room]

        return message_id, in_turn


async def _nothing() -> None:
    return None


class Messenger:
    def __init__(
        self,
        *,
        messages: MessageStore,
        ledger: SendLedger,
        broadcaster: Broadcaster,
        metrics: Metrics,
    ) -> None:
        self._messages = messages
        self._ledger = ledger
        self._broadcaster = broadcaster
        self._metrics = metrics
        self._sequencer = RoomSequencer()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, seconds: float) -> bool:
        """Wait for the sends under way (graceful shutdown); False if some are still going."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def send(self, *, username: str, room: str, text: str, client_id: str) -> Message:
        """Store, then broadcast; the returned message exists. A repeated clientId returns the
        message stored the first time and broadcasts nothing."""
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._send(username=username, room=room, text=text, client_id=client_id)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _send(self, *, username: str, room: str, text: str, client_id: str) -> Message:
        message_id, in_turn = self._sequencer.draw(room)
        try:
            message, is_new = await self._store_once(
                username=username, room=room, text=text, client_id=client_id, message_id=message_id
            )
        except BaseException:
            await in_turn(_nothing)
            raise
        await in_turn(partial(self._broadcast, message) if is_new else _nothing)
        return message

    async def _broadcast(self, message: Message) -> None:
        await self._broadcaster.message(message)
        self._metrics.messages_broadcast.labels("app").inc()
        created = ulid_datetime(message.id).timestamp()
        self._metrics.delivery_seconds.observe(max(time.time() - created, 0.0))

    async def _store_once(
        self, *, username: str, room: str, text: str, client_id: str, message_id: str
    ) -> tuple[Message, bool]:
        """The message for this clientId, and whether this call stored it."""
        intended = Message(
            id=message_id,
            room=room,
            username=username,
            text=text,
            created_at=iso_utc(ulid_datetime(message_id)),
            client_id=client_id,
        )
        recorded, state = await self._admit(intended)
        if state == "stored":
            return recorded, False
        try:
            await self._messages.put(recorded)
        except StorageUnavailable as exc:
            if not await self._was_stored(recorded):
                if state == "admitted":
                    await self._ledger.release(recorded)
                down = backend_unavailable(exc, self._metrics)
                raise SendRefused(
                    down.code,
                    "Message not stored: the database is unavailable, retry",
                    retry_after=down.retry_after,
                ) from exc
        except BaseException:
            if state == "admitted":
                await self._ledger.release(recorded)
            raise
        self._metrics.messages_stored.inc()
        await self._ledger.record(recorded)
        return recorded, True

    async def _was_stored(self, message: Message) -> bool:
        """After a failed write: a timeout may hide a write that did happen, so ask once."""
        try:
            return await self._messages.exists(message.room, message.id)
        except StorageUnavailable:
            return False

    async def _admit(self, intended: Message) -> tuple[Message, AdmitState]:
        """What to do with this send: store `intended` ("admitted"), return the message stored
        before under its clientId ("stored"), or finish storing the message a sender that
        stopped answering left pending ("orphaned"; storing is idempotent by id)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DUPLICATE_WAIT_SECONDS
        while True:
            gate = await self._ledger.admit(intended)
            if gate.outcome == "admitted":
                return intended, "admitted"
            if gate.outcome == "limited":
                # Tenths of a second, rounded up: a retry after that long is admitted.
                seconds = max(math.ceil(gate.retry_after_ms / 100) / 10, 0.1)
                raise SendRefused(
                    ErrorCode.RATE_LIMITED,
                    f"Rate limit: too many messages, retry in {seconds:.1f} s",
                    retry_after=seconds,
                )
            if gate.outcome == "stored":
                assert gate.stored is not None
                return await self._stored(gate.stored), "stored"
            assert gate.message is not None
            if loop.time() >= deadline:
                log.warning("taking over the pending message %s", gate.message.id)
                return gate.message, "orphaned"
            await asyncio.sleep(_DUPLICATE_POLL_SECONDS)

    async def _stored(self, key: MessageKey) -> Message:
        """The message a clientId was stored as: the ledger keeps only its key."""
        try:
            message = await self._messages.get(key.room, key.id)
        except StorageUnavailable as exc:
            down = backend_unavailable(exc, self._metrics)
            raise SendRefused(
                down.code,
                "Message already stored, but the database is unavailable: retry",
                retry_after=down.retry_after,
            ) from exc
        if message is None:
            # Only an item deleted from the table (by hand: Parley deletes none) gets here.
            log.warning("the message %s of a repeated clientId is gone", key.id)
            raise SendRefused(
                ErrorCode.INVALID, "This clientId named a message that no longer exists"
            )
        return message
