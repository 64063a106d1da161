"""Registering, logging in and changing the password: the rules, shared by the HTTP routes and
the Lambda handler."""

from __future__ import annotations

from dataclasses import dataclass

from parley.passwords import PasswordHasher
from parley.storage.sessions import Session, SessionInfo, SessionStore
from parley.storage.throttle import LoginThrottle
from parley.storage.users import UserStore


class InvalidCredentials(Exception):
    """Unknown user or wrong password: deliberately one error for both."""


class WrongPassword(Exception):
    """The current password given to change it is not the account's."""


class LoginLocked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Accounts:
    users: UserStore
    sessions: SessionStore
    throttle: LoginThrottle
    hasher: PasswordHasher

    async def register(self, *, username: str, password: str) -> str:
        """Create the account; raises UsernameTaken. Returns the name as registered."""
        password_hash = await self.hasher.hash(password)
        user = await self.users.create(username=username, password_hash=password_hash)
        return user.username

    async def login(
        self, *, username: str, password: str, address: str, user_agent: str = ""
    ) -> Session:
        retry_after = await self.throttle.retry_after(account=username, address=address)
        if retry_after is not None:
            raise LoginLocked(retry_after)
        user = await self.users.get(username)
        if user is None:
            await self.hasher.verify_decoy(password)
        if user is None or not await self.hasher.verify(password, user.password_hash):
            await self.throttle.record_failure(account=username, address=address)
            raise InvalidCredentials
        await self.throttle.forget_account(username)
        return await self.sessions.create(user.username, user_agent=user_agent)

    async def change_password(
        self, *, session: Session, current: str, new: str, address: str
    ) -> list[SessionInfo]:
        """Check `current` as a login would (throttled; a wrong one counts as a failed login,
        so a stolen session cannot be used to guess the password), store the hash of `new`,
        and end every other session of the account (OWASP Session Management Cheat Sheet,
        "Renew the Session ID After Any Privilege Level Change"). Returns the sessions ended,
        for the caller to tell their sockets."""
        username = session.username
        retry_after = await self.throttle.retry_after(account=username, address=address)
        if retry_after is not None:
            raise LoginLocked(retry_after)
        user = await self.users.get(username)
        if user is None or not await self.hasher.verify(current, user.password_hash):
            await self.throttle.record_failure(account=username, address=address)
            raise WrongPassword
        if not await self.users.set_password_hash(user.username, await self.hasher.hash(new)):
            raise WrongPassword
        return await self.sessions.end_others(username, keep=session)
