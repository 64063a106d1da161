"""Errors a client can act on: a machine-readable code beside the human message, the same for an
HTTP error body (`{"error", "code"}`) and a failed Socket.IO ack (`{"ok": false, "error",
"code"}`), with `retryAfter` where waiting helps. Clients decide on the code, never on the text
(as Synapse's `api/errors.py` `Codes` do)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from parley.metrics import Metrics
from parley.storage.dynamo import StorageUnavailable

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    UNAUTHORIZED = "unauthorized"  # no session, an expired one, or wrong credentials
    FORBIDDEN = "forbidden"  # a foreign origin (CSRF, cross-site WebSocket)
    NOT_FOUND = "not_found"  # an unknown room, path or event
    CONFLICT = "conflict"  # the name is taken
    INVALID = "invalid"  # a bad payload, field or query
    NOT_JOINED = "not_joined"  # sending or typing to a room the socket has not joined
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # a body that is not JSON
    UNAVAILABLE = "unavailable"  # Redis or DynamoDB not answering
    INTERNAL = "internal"

    @property
    def status(self) -> int:
        """The HTTP status that carries this code."""
        return _STATUS[self]


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.INVALID: 422,
    ErrorCode.NOT_JOINED: 409,  # socket only
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED: 415,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}
_BY_STATUS: dict[int, ErrorCode] = {
    **{status: code for code, status in _STATUS.items() if code is not ErrorCode.NOT_JOINED},
    # A method the path does not have is an operation that does not exist (Synapse answers
    # M_UNRECOGNIZED to both).
    405: ErrorCode.NOT_FOUND,
}


def code_for_status(status: int) -> ErrorCode:
    """The code of an HTTP error raised without one (Starlette's 404 and 405 among them)."""
    return _BY_STATUS.get(status, ErrorCode.INTERNAL if status >= 500 else ErrorCode.INVALID)


@dataclass(frozen=True)
class Problem:
    """What went wrong, for the HTTP and the socket answer alike."""

    code: ErrorCode
    message: str
    retry_after: float | None = None  # seconds

    @property
    def status(self) -> int:
        return self.code.status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code.value}
        if self.retry_after is not None:
            body["retryAfter"] = self.retry_after
        return body

    def ack(self) -> dict[str, Any]:
        return {"ok": False, **self.body()}


class Refused(Exception):
    """A request refused for a reason its sender can act on; it leaves as `problem`."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.problem = Problem(code, message, retry_after)


# Redis restarts in about a second and its client gives up after 2 s (services.open_redis);
# DynamoDB calls give up within seconds too (storage/dynamo.CLIENT_CONFIG).
UNAVAILABLE_RETRY_SECONDS = 2
# redis-py's cluster client raises RedisClusterException, outside RedisError, when no node
# answers or the slot map cannot be had (a whole cluster down, a slot not served).
REDIS_ERRORS = (RedisError, RedisClusterException)
BACKEND_ERRORS = (*REDIS_ERRORS, StorageUnavailable)
BackendError = RedisError | RedisClusterException | StorageUnavailable


def backend_unavailable(exc: BackendError, metrics: Metrics | None) -> Problem:
    """The one answer to Redis or DynamoDB not answering, logged and counted: HTTP 503 or a
    failed ack, code `unavailable`."""
    if isinstance(exc, REDIS_ERRORS):
        backend, message = "redis", "Session store unavailable, try again shortly"
    else:
        backend, message = "dynamodb", "Database unavailable, try again shortly"
    log.warning("%s unavailable: %s", backend, exc)
    if metrics is not None:
        metrics.backend_errors.labels(backend).inc()
    return Problem(ErrorCode.UNAVAILABLE, message, retry_after=UNAVAILABLE_RETRY_SECONDS)
