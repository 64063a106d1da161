"""bcrypt password hashing, off the event loop.

bcrypt reads at most 72 bytes of its input (and bcrypt >= 5 refuses longer ones), so the
password is first reduced to a fixed 44-byte base64 SHA-256 digest: every character of a long
password counts, and the digest has no NUL byte that could cut bcrypt's input short."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import bcrypt


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def _verify_sync(password: str, password_hash: str) -> bool:
    return bcrypt.checkpw(_prehash(password), password_hash.encode())


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self._rounds = rounds
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(_hash_sync, password, self._rounds)

    async def verify(self, password: str, password_hash: str) -> bool:
        return await asyncio.to_thread(_verify_sync, password, password_hash)

    async def verify_decoy(self, password: str) -> None:
        """Spend the time of a real check, so an unknown name cannot be told apart by timing."""
        if self._decoy is None:
            self._decoy = await self.hash("parley-decoy-password")
        await self.verify(password, self._decoy)
