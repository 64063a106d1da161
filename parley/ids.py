"""Message ids are ULIDs (https://github.com/ulid/spec): 26 Crockford base32 characters that sort
by creation time. Ids from one process are strictly increasing, even within one millisecond."""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
_ULID_RE = re.compile(ULID_PATTERN)
_RANDOM_BITS = 80
MIN_ULID = "0" * 26


def is_ulid(value: str) -> bool:
    return bool(_ULID_RE.match(value))


def _encode(number: int) -> str:
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def ulid_datetime(ulid: str) -> datetime:
    """The creation time a ULID carries in its first 48 bits."""
    millis = 0
    for char in ulid[:10]:
        millis = millis * 32 + ALPHABET.index(char)
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


class MonotonicUlids:
    """The spec's monotonic mode: within one millisecond, increment the random part."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_millis = -1
        self._last_random = 0

    def new(self) -> str:
        with self._lock:
            millis = max(time.time_ns() // 1_000_000, self._last_millis)
            if millis == self._last_millis:
                self._last_random += 1
                if self._last_random >= 1 << _RANDOM_BITS:  # overflow: borrow the next ms
                    millis += 1
                    self._last_random = secrets.randbits(_RANDOM_BITS - 1)
            else:
                # Keep the top bit clear so a millisecond has 2**79 increments of headroom.
                self._last_random = secrets.randbits(_RANDOM_BITS - 1)
            self._last_millis = millis
            return _encode((millis << _RANDOM_BITS) | self._last_random)


new_ulid = MonotonicUlids().new


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision, e.g. 2026-11-24T20:31:05.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
