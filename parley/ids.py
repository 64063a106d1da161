"""Message ids are ULIDs (https://github.com/ulid/spec), made by python-ulid: 26 Crockford base32
characters that sort by creation time. Ids from one process are strictly increasing, even within
one millisecond and when the system clock steps back."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime

from ulid import ULIDGenerator, base32
from ulid.constants import RANDOMNESS_LEN

ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
_ULID_RE = re.compile(ULID_PATTERN)
MIN_ULID = "0" * 26


def is_ulid(value: str) -> bool:
    return bool(_ULID_RE.match(value))


def ulid_datetime(ulid: str) -> datetime:
    """The creation time a ULID carries in its first 48 bits."""
    millis = int.from_bytes(base32.decode_timestamp(ulid[:10]), "big")
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


class _ForwardClock:
    """Milliseconds since the epoch that never go back: after an NTP step the generator keeps
    the last millisecond (and increments within it) instead of drawing ids that sort before the
    ones already handed out."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        self._last = max(time.time_ns() // 1_000_000, self._last)
        return self._last


def _randomness(_millis: int) -> bytes:
    # The top bit clear leaves 2**79 increments of headroom within one millisecond, so the
    # strict policy (python-ulid's default) never runs out and raises.
    drawn = bytearray(os.urandom(RANDOMNESS_LEN))
    drawn[0] &= 0x7F
    return bytes(drawn)


_generator = ULIDGenerator(clock=_ForwardClock(), randomness=_randomness)
# The generator reads its clock before it takes its own lock; one lock around both keeps ids
# increasing in the order they are drawn, across threads too.
_lock = threading.Lock()


def new_ulid() -> str:
    """A new ULID, greater than every one this process drew before."""
    with _lock:
        return str(_generator.generate())


def ulid_seconds(ulid: str) -> float:
    """The creation time a ULID carries, in seconds since the epoch (millisecond precision)."""
    return int.from_bytes(base32.decode_timestamp(ulid[:10]), "big") / 1000


def ulid_at(seconds: float) -> str:
    """The smallest ULID of the millisecond `seconds` falls in (zero randomness): `after=` it
    gives every message whose id's time is that millisecond or later. Clamped at the epoch."""
    millis = max(int(seconds * 1000), 0)
    return base32.encode_timestamp(millis.to_bytes(6, "big")) + "0" * 16


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision, e.g. 2026-11-24T20:31:05.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
