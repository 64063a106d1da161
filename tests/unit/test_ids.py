"""Message ids: ULIDs that sort by creation time, strictly increasing within one process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parley.ids import (
    MIN_ULID,
    is_ulid,
    iso_utc,
    new_ulid,
    ulid_at,
    ulid_datetime,
    ulid_seconds,
)


def test_a_new_id_is_a_ulid_of_now() -> None:
    before = datetime.now(UTC)
    message_id = new_ulid()
    after = datetime.now(UTC)
    assert is_ulid(message_id)
    assert before - timedelta(milliseconds=1) <= ulid_datetime(message_id) <= after


def test_ids_of_one_process_strictly_increase() -> None:
    # Thousands of ids fall in the same millisecond: the random part must count up.
    ids = [new_ulid() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_the_time_is_read_from_the_first_ten_characters() -> None:
    assert ulid_datetime("01ARZ3NDEKTSV4RRFFQ69G5FAV") == datetime(
        2016, 7, 30, 23, 54, 10, 259000, tzinfo=UTC
    )
    assert ulid_datetime(MIN_ULID) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", True),
        (MIN_ULID, True),
        ("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", True),
        ("8ZZZZZZZZZZZZZZZZZZZZZZZZZ", False),  # past the 48-bit time
        ("01ARZ3NDEKTSV4RRFFQ69G5FA", False),  # 25 characters
        ("01ARZ3NDEKTSV4RRFFQ69G5FAVX", False),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAI", False),  # I, L, O, U are not Crockford base32
        ("01arz3ndektsv4rrffq69g5fav", False),
        ("", False),
    ],
)
def test_is_ulid(value: str, valid: bool) -> None:
    assert is_ulid(value) is valid


def test_iso_utc_is_milliseconds_with_z() -> None:
    moment = datetime(2026, 11, 24, 21, 31, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(moment) == "2026-11-24T20:31:05.123Z"


def test_ulid_at_is_the_smallest_ulid_of_its_millisecond() -> None:
    # The spec's example: 01ARZ3NDEK is 1469922850259 ms.
    assert ulid_at(1469922850.259) == "01ARZ3NDEK0000000000000000"
    assert ulid_seconds("01ARZ3NDEKTSV4RRFFQ69G5FAV") == 1469922850.259
    drawn = new_ulid()
    assert ulid_at(ulid_seconds(drawn)) <= drawn
    assert ulid_at(ulid_seconds(drawn) - 0.001) < drawn
    assert ulid_at(-5) == MIN_ULID
    assert is_ulid(ulid_at(ulid_seconds(drawn)))
