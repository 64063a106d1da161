"""bcrypt over a SHA-256 prehash: every character of a long password counts; a constant decoy
for unknown names; the most common passwords refused."""

from __future__ import annotations

import bcrypt
import pytest

from parley import passwords
from parley.passwords import PasswordHasher, PasswordPolicy, decoy_hash


async def test_a_hash_verifies_its_password_only() -> None:
    hasher = PasswordHasher(4)
    password_hash = await hasher.hash("correct horse battery")
    assert password_hash.startswith("$2b$04$")
    assert await hasher.verify("correct horse battery", password_hash)
    assert not await hasher.verify("correct horse batterz", password_hash)


async def test_characters_past_bcrypts_72_bytes_count() -> None:
    hasher = PasswordHasher(4)
    long = "x" * 100
    password_hash = await hasher.hash(long)
    assert not await hasher.verify(long[:-1] + "y", password_hash)


async def test_a_nul_byte_does_not_cut_the_password_short() -> None:
    hasher = PasswordHasher(4)
    password_hash = await hasher.hash("abc\0def")
    assert not await hasher.verify("abc\0xyz", password_hash)


async def test_the_decoy_costs_one_check_and_no_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Lambda the hasher is built per invocation: the decoy must not be hashed each time."""

    def no_hashing(password: str, rounds: int) -> str:
        raise AssertionError("the decoy was hashed")

    monkeypatch.setattr(passwords, "_hash_sync", no_hashing)
    await PasswordHasher(4).verify_decoy("correct horse battery")


def test_the_decoy_has_the_configured_cost_and_matches_no_password() -> None:
    assert decoy_hash(12).startswith("$2b$12$")
    decoy = decoy_hash(4)
    for password in ("", "parley-decoy-password", "correct horse battery"):
        assert not bcrypt.checkpw(passwords._prehash(password), decoy.encode())


def test_the_most_common_passwords_are_refused_whatever_their_case() -> None:
    policy = PasswordPolicy.shipped()
    for common in ("password", "12345678", "Qwertyuiop", " iloveyou1 ", "friend of joan"):
        assert policy.problem(common) == (
            "This password is one of the most common ones: choose another"
        ), common
    assert policy.problem("correct horse battery") is None
