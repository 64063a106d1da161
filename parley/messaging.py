"""Sending a message, the rules in one place: idempotency by clientId, the rate limit, storing
before acknowledging, and broadcasting each room's messages in id order."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal, Protocol

from parley.errors import ErrorCode, Refused, backend_unavailable
from parley.ids import iso_utc, new_ulid, ulid_datetime, ulid_seconds
from parley.mentions import Mentions
from parley.metrics import Metrics
from parley.models import Message, Quote
from parley.storage.dynamo import StorageUnavailable
from parley.storage.messages import MessageStore, ParentGone
from parley.storage.sends import MessageKey, SendLedger

log = logging.getLogger(__name__)

# How long a repeat waits for its first copy, still being stored, before storing it itself
# (the first sender's process may have died; the client's ack timeout is about 10 s).
DUPLICATE_WAIT_SECONDS = 5.0
_DUPLICATE_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class VisibilityBound:
    """A message becomes visible (stored) at most `seconds` after its id's time, so a client
    that catches up from its newest id minus `seconds` misses nothing, whatever order writes
    land in (docs/reference.md, "Catching up after a disconnect"). Every write of an id is cut
    off at that id's time + `seconds` (refused; the client retries with its clientId); a write
    is started only with `write_seconds` left, else under a new id. A healthy PutItem answers in
    milliseconds; 4 s leaves room for a retry after a refused connection (storage/dynamo.py
    CLIENT_CONFIG: 2 s connect timeout), and 10 - 4 > DUPLICATE_WAIT_SECONDS lets a take-over
    after that wait store the orphan under its own id. `skew_seconds` allows for the clocks of
    two instances disagreeing (NTP keeps them within milliseconds). The price: a catch-up
    re-reads the messages of the last `seconds` before its gap."""

    seconds: float = 10.0
    write_seconds: float = 4.0
    skew_seconds: float = 1.0

    def time_left(self, message_id: str, now: float) -> float:
        """How long a write of `message_id` may still take, `now` being the current time."""
        return ulid_seconds(message_id) + self.seconds - now

    def can_start_write(self, message_id: str, now: float) -> bool:
        return self.time_left(message_id, now) >= self.write_seconds

    def until_past(self, message_id: str, now: float) -> float:
        """How long until every write of `message_id`, on whichever instance, is over."""
        return max(self.time_left(message_id, now) + self.skew_seconds, 0.0)


VISIBILITY_BOUND = VisibilityBound()


def _unavailable(exc: Exception) -> StorageUnavailable:
    if isinstance(exc, StorageUnavailable):
        return exc
    return StorageUnavailable("DynamoDB: the write did not finish within the visibility bound")


class Broadcaster(Protocol):
    async def message(self, message: Message) -> None: ...

    async def message_updated(self, message: Message) -> None: ...


AdmitState = Literal["admitted", "stored", "orphaned", "orphan_stored"]


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


@dataclass
class _Ticket:
    """A send's id and its broadcast turn; both are re-drawn when the id has grown too old."""

    room: str
    message_id: str
    in_turn: InTurn


class Messenger:
    def __init__(
        self,
        *,
        messages: MessageStore,
        ledger: SendLedger,
        broadcaster: Broadcaster,
        mentions: Mentions,
        metrics: Metrics,
        bound: VisibilityBound = VISIBILITY_BOUND,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bound = bound
        self._clock = clock
        self._passing: set[asyncio.Task[None]] = set()
        self._messages = messages
        self._ledger = ledger
        self._broadcaster = broadcaster
        self._mentions = mentions
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

    async def send(
        self,
        *,
        username: str,
        room: str,
        text: str,
        client_id: str,
        reply_to: str | None = None,
    ) -> Message:
        """Store, then broadcast; the returned message exists. A repeated clientId returns the
        message stored the first time and broadcasts nothing. `reply_to` is the id of a
        message of the same room, which the new one quotes."""
        self._in_flight += 1
        self._idle.clear()
        try:
            # The message but for its id (and so its time), drawn when its turn is taken.
            draft = Message(
                id="",
                room=room,
                username=username,
                text=text,
                created_at="",
                client_id=client_id,
                reply_to=await self._quote(room, reply_to) if reply_to is not None else None,
                mentions=await self._mentions.resolve(room, text),
            )
            return await self._send(draft)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _quote(self, room: str, parent_id: str) -> Quote:
        parent = await self._messages.get(room, parent_id)
        if parent is None:
            raise SendRefused(
                ErrorCode.NOT_FOUND, f"replyTo: no message '{parent_id}' in room '{room}'"
            )
        if parent.deleted:
            raise SendRefused(ErrorCode.CONFLICT, "replyTo: that message was deleted")
        return Quote.of(parent)

    async def _send(self, draft: Message) -> Message:
        ticket = _Ticket(draft.room, *self._sequencer.draw(draft.room))
        try:
            message, is_new = await self._store_once(draft, ticket)
        except BaseException:
            await ticket.in_turn(_nothing)
            raise
        await ticket.in_turn(partial(self._broadcast, message) if is_new else _nothing)
        return message

    def _redraw(self, ticket: _Ticket) -> None:
        """A new id at the end of the room's line; the old place passes its turn on when its
        own comes (not awaited: the sends before it may still be storing)."""
        old_turn = ticket.in_turn
        ticket.message_id, ticket.in_turn = self._sequencer.draw(ticket.room)
        passing = asyncio.ensure_future(old_turn(_nothing))
        self._passing.add(passing)
        passing.add_done_callback(self._passing.discard)

    def _fresh(self, ticket: _Ticket) -> str:
        """The ticket's id, re-drawn first if a write under it could no longer keep the bound."""
        if not self._bound.can_start_write(ticket.message_id, self._clock()):
            self._redraw(ticket)
        return ticket.message_id

    async def _broadcast(self, message: Message) -> None:
        await self._broadcaster.message(message)
        await self._mentions.notify(message)
        self._metrics.messages_broadcast.labels("app").inc()
        created = ulid_datetime(message.id).timestamp()
        self._metrics.delivery_seconds.observe(max(time.time() - created, 0.0))

    async def _store_once(self, draft: Message, ticket: _Ticket) -> tuple[Message, bool]:
        """The message for this clientId, and whether this call stored it."""

        def intended() -> Message:
            message_id = self._fresh(ticket)
            return replace(draft, id=message_id, created_at=iso_utc(ulid_datetime(message_id)))

        recorded, state = await self._admit(intended)
        if state == "stored":
            return recorded, False
        if state == "orphan_stored":
            await self._ledger.record(recorded)
            return recorded, True
        if not self._bound.can_start_write(recorded.id, self._clock()):
            # Admitting took so long (Redis crawling) that the write could land too late.
            if state == "admitted":
                await self._ledger.release(recorded)
            raise SendRefused(
                ErrorCode.UNAVAILABLE,
                "Message not stored: the server is too slow, retry",
                retry_after=1.0,
            )
        try:
            async with asyncio.timeout(self._bound.time_left(recorded.id, self._clock())):
                await self._messages.put(recorded)
        except (StorageUnavailable, TimeoutError) as exc:
            if not await self._was_stored(recorded):
                if state == "admitted":
                    await self._ledger.release(recorded)
                down = backend_unavailable(_unavailable(exc), self._metrics)
                raise SendRefused(
                    down.code,
                    "Message not stored: the database is unavailable, retry",
                    retry_after=down.retry_after,
                ) from exc
        except ParentGone:
            if state == "admitted":
                await self._ledger.release(recorded)
            raise SendRefused(
                ErrorCode.CONFLICT, "replyTo: that message was deleted meanwhile"
            ) from None
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

    async def _admit(self, intended: Callable[[], Message]) -> tuple[Message, AdmitState]:
        """What to do with this send: store `intended()` ("admitted"), return the message
        stored before under its clientId ("stored"), or take over the message a sender that
        stopped answering left pending (see _take_over)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DUPLICATE_WAIT_SECONDS
        while True:
            candidate = intended()
            gate = await self._ledger.admit(candidate)
            if gate.outcome == "admitted":
                return candidate, "admitted"
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
                taken = await self._take_over(gate.message)
                if taken is not None:
                    return taken
                # Its record was released: admit this send under a new id, or wait for the
                # racing repeat that got there first, as for any first copy.
                deadline = loop.time() + DUPLICATE_WAIT_SECONDS
                continue
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

    async def _take_over(self, orphan: Message) -> tuple[Message, AdmitState] | None:
        """The pending message of a sender that stopped answering. While a write of its id
        can still keep the visibility bound, finish storing it ("orphaned"; storing is
        idempotent by id, so a sender still alive does no harm). After that, wait until every
        write of that id is over: then it is stored ("orphan_stored"), or never will be and its
        record is released (None) for the send to go ahead under a new id; exactly one of the
        retries racing for the clientId is admitted again."""
        if self._bound.can_start_write(orphan.id, self._clock()):
            log.warning("taking over the pending message %s", orphan.id)
            return orphan, "orphaned"
        await asyncio.sleep(self._bound.until_past(orphan.id, self._clock()))
        try:
            stored = await self._messages.exists(orphan.room, orphan.id)
        except StorageUnavailable as exc:
            down = backend_unavailable(exc, self._metrics)
            raise SendRefused(
                down.code,
                "Message not stored: the database is unavailable, retry",
                retry_after=down.retry_after,
            ) from exc
        if stored:
            log.warning("the pending message %s was stored; recording it", orphan.id)
            return orphan, "orphan_stored"
        log.warning("the pending message %s was never stored; sending it anew", orphan.id)
        await self._ledger.release(orphan)
        return None
