"""Message ids: valid ULIDs, strictly increasing in the order they are drawn (within one
millisecond, across threads, and when the clock steps back), carrying their creation time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from parley import ids
from parley.ids import MIN_ULID, is_ulid, iso_utc, new_ulid, ulid_datetime


def test_ids_are_ulids_that_increase_within_one_millisecond() -> None:
    drawn = [new_ulid() for _ in range(5000)]
    assert all(is_ulid(i) for i in drawn)
    assert drawn == sorted(drawn)
    assert len(set(drawn)) == len(drawn)
    # Thousands of ids in a few milliseconds: many shared one, so the increment path ran.
    assert len({i[:10] for i in drawn}) < len(drawn)
    assert drawn[0] > MIN_ULID


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    before = new_ulid()
    an_hour_ago = time.time_ns() - 3600 * 10**9
    monkeypatch.setattr(ids.time, "time_ns", lambda: an_hour_ago)
    after = [new_ulid() for _ in range(3)]
    assert [before, *after] == sorted({before, *after})


def test_ids_drawn_by_threads_are_unique() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(new_ulid() for _ in range(2000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for into in drawn for i in into]
    assert len(set(every)) == len(every)
    assert all(into == sorted(into) for into in drawn)


def test_an_id_carries_its_creation_time() -> None:
    start_ms = time.time_ns() // 1_000_000
    moment = ulid_datetime(new_ulid())
    assert start_ms / 1000 <= moment.timestamp() <= time.time()
    assert ulid_datetime("01ARZ3NDEKTSV4RRFFQ69G5FAV") == datetime(
        2016, 7, 30, 23, 54, 10, 259000, tzinfo=UTC
    )
    assert iso_utc(ulid_datetime("01ARZ3NDEKTSV4RRFFQ69G5FAV")) == "2016-07-30T23:54:10.259Z"


@pytest.mark.parametrize(
    "value",
    ["", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3ndektsv4rrffq69g5fav"],
)
def test_is_ulid_refuses_what_is_not_a_canonical_ulid(value: str) -> None:
    assert not is_ulid(value)
