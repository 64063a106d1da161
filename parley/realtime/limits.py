"""What one socket, one user and one address may hold or ask of this instance: event budgets
(token buckets), rooms per socket, sockets per session and per address.

The buckets live in this process, not in Redis. Every event's cost (its ack, presence writes,
fan-out, the join's history) lands on the instance holding the socket, and a bucket in Redis
would add a round trip to every event, `typing` included; a user's sockets on other instances
are held by those instances' buckets (sockets per session and per address cap how many there
are). Messages also pass the per-user GCRA in Redis (parley/storage/sends.py), which holds
across instances and is the documented `PARLEY_MESSAGE_RATE`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from parley.errors import ErrorCode, Problem

# Rooms one socket may have joined at once; a join beyond is refused with `rate_limited`
# (a limit on what the socket holds, lifted by leaving a room, so no `retryAfter`).
MAX_ROOMS_PER_SOCKET = 100
# Sockets at once on this instance: per session (a browser's tabs) and per client address (an
# office behind one NAT has many people).
MAX_SOCKETS_PER_SESSION = 20
# Events of one socket being handled at once (sent without waiting for their acks): past this,
# more are refused with `rate_limited` at once, so a client cannot queue work (and DynamoDB
# calls) on the server faster than it is done. A sidebar's joins stay below it (web/).
MAX_EVENTS_IN_FLIGHT = 32
MAX_SOCKETS_PER_ADDRESS = 200


@dataclass(frozen=True, slots=True)
class Budget:
    rate: float  # tokens per second
    burst: int


# Per socket, and per user over all their sockets on this instance. Generous for people (a
# reconnect rejoins its rooms, typing is sent as keys are pressed): they bound machines.
SOCKET_BUDGETS = {
    # A client also joins every room of its sidebar (at most MAX_ROOMS_PER_SOCKET) on each
    # connect, paced to this budget; a join costs two key lookups (the policy) and a query.
    "join": Budget(5, 30),
    "leave": Budget(5, 30),
    "message": Budget(20, 60),
    "typing": Budget(10, 30),
    # A client marks a room read as new messages come into view (and throttles itself).
    "read": Budget(5, 30),
    # Each of these writes to DynamoDB and reaches the whole room; a person edits or deletes
    # now and then and toggles a few reactions in a row.
    "edit": Budget(2, 20),
    "delete": Budget(2, 20),
    "react": Budget(5, 30),
}
USER_BUDGETS = {event: Budget(b.rate * 2, b.burst * 2) for event, b in SOCKET_BUDGETS.items()}
# Each refused event takes a strike; a socket out of strikes (it kept going far past its
# budget without waiting) is disconnected.
STRIKES = Budget(5, 100)


def scaled(budgets: dict[str, Budget], scale: float) -> dict[str, Budget]:
    return {event: scaled_budget(budget, scale) for event, budget in budgets.items()}


def scaled_budget(budget: Budget, scale: float) -> Budget:
    return Budget(budget.rate * scale, max(math.ceil(budget.burst * scale), 1))


@dataclass(slots=True)
class TokenBucket:
    budget: Budget
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float | None = None) -> float:
        """0 when a token was taken, else the seconds until one comes back."""
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens = float(self.budget.burst)
        else:
            elapsed = now - self.updated
            self.tokens = min(float(self.budget.burst), self.tokens + elapsed * self.budget.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.budget.rate


@dataclass(slots=True)
class Buckets:
    """One bucket per event kind, made on first use."""

    budgets: dict[str, Budget]
    by_event: dict[str, TokenBucket] = field(default_factory=dict)

    def take(self, event: str, now: float) -> float:
        bucket = self.by_event.get(event)
        if bucket is None:
            bucket = self.by_event[event] = TokenBucket(self.budgets[event])
        return bucket.take(now)


def rate_limited(event: str, wait: float) -> Problem:
    retry_after = math.ceil(wait * 10) / 10
    return Problem(
        ErrorCode.RATE_LIMITED,
        f"Rate limit: too many '{event}' events, retry in {retry_after:.1f} s",
        retry_after,
    )
