"""bcrypt over a SHA-256 prehash: every character of a long password counts."""

from __future__ import annotations

from parley.passwords import PasswordHasher


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
