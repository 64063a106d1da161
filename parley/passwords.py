"""bcrypt password hashing, off the event loop.

bcrypt reads at most 72 bytes of its input (and bcrypt >= 5 refuses longer ones), so the
password is first reduced to a fixed 44-byte base64 SHA-256 digest: every character of a long
password counts, and the digest has no NUL byte that could cut bcrypt's input short.

The policy beside the schema's length (8 to 128): no password from a list of the most common ones
(NIST SP 800-63B §5.1.1.2, ASVS 2.1.7), as Django's `CommonPasswordValidator` does, with the
part of Django's own list (parley/data/README.md) that is long enough to pass the length rule."""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
from importlib import resources

import bcrypt

# A well-formed bcrypt hash that no password produces (its checksum is made up), with a fixed
# salt: checking a password against it costs one bcrypt at the given cost, and building it
# costs nothing, so an unknown user takes the time of a wrong password even in a Lambda that
# builds its services per invocation. The salt ends in "u" and the checksum in ".", so
# neither has stray low bits a strict decoder would refuse.
_DECOY_SALT = "ParleyDecoyForUnknownu"
_DECOY_CHECKSUM = "ParleyNeverMatchesAnyPassword.."


def decoy_hash(rounds: int) -> str:
    return f"$2b${rounds:02d}${_DECOY_SALT}{_DECOY_CHECKSUM}"


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def _verify_sync(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(_prehash(password), password_hash.encode())


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self._rounds = rounds
        self._decoy = decoy_hash(rounds)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(_hash_sync, password, self._rounds)

    async def verify(self, password: str, password_hash: str) -> bool:
        return await asyncio.to_thread(_verify_sync, password, password_hash)

    async def verify_decoy(self, password: str) -> None:
        """Spend the time of a real check, so an unknown name cannot be told apart by timing."""
        await self.verify(password, self._decoy)


@functools.cache
def _shipped_common_passwords() -> frozenset[str]:
    """Read once per process: about 8,400 entries, lower-cased."""
    data = resources.files("parley").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().splitlines())


class PasswordPolicy:
    def __init__(self, common: frozenset[str]) -> None:
        self._common = common

    @classmethod
    def shipped(cls) -> PasswordPolicy:
        return cls(_shipped_common_passwords())

    def problem(self, password: str) -> str | None:
        """Why the password is refused, in a sentence for the person; None when it is fine."""
        if password.strip().lower() in self._common:
            return "This password is one of the most common ones: choose another"
        return None
