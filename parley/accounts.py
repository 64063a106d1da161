"""Registering, logging in and changing the password: the rules, shared by the HTTP routes and
the Lambda handler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from parley.passwords import PasswordHasher, PasswordPolicy
from parley.security_log import security_event
from parley.storage.sessions import Session, SessionInfo, SessionStore
from parley.storage.throttle import LoginThrottle, RegistrationThrottle
from parley.storage.users import UserStore


class InvalidCredentials(Exception):
    """Unknown user or wrong password: deliberately one error for both."""


class WrongPassword(Exception):
    """The current password given to change it is not the account's."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"wait {retry_after} s")
        self.retry_after = retry_after


class WeakPassword(Exception):
    """The password is one of the most common ones; the message says so to the person."""


@dataclass(frozen=True, slots=True)
class Accounts:
    users: UserStore
    sessions: SessionStore
    throttle: LoginThrottle
    registrations: RegistrationThrottle
    hasher: PasswordHasher
    policy: PasswordPolicy

    async def register(self, *, username: str, password: str, address: str) -> str:
        """Create the account; raises TooManyAttempts, WeakPassword or UsernameTaken. Returns
        the name as registered."""
        problem = self.policy.problem(password)
        if problem is not None:
            raise WeakPassword(problem)
        retry_after = await self.registrations.reserve(address)
        if retry_after is not None:
            security_event("register_throttled", address=address, retry_after=retry_after)
            raise TooManyAttempts(retry_after)
        password_hash = await self.hasher.hash(password)
        user = await self.users.create(username=username, password_hash=password_hash)
        security_event("registered", username=user.username, address=address)
        return user.username

    async def authenticate(self, *, username: str, password: str, address: str) -> str:
        """The name as registered when the password is right; raises TooManyAttempts or
        InvalidCredentials. Every check of a password goes through here, so each is throttled."""
        retry_after = await self.throttle.reserve(account=username, address=address)
        if retry_after is not None:
            security_event(
                "login_throttled", username=username, address=address, retry_after=retry_after
            )
            raise TooManyAttempts(retry_after)
        try:
            user = await self.users.get(username)
        except Exception:
            # The database did not answer, so no password was checked: a client retrying
            # through an outage must not find itself throttled for failures it never made.
            await self.throttle.release(account=username, address=address)
            raise
        if user is None:
            await self.hasher.verify_decoy(password)
        if user is None or not await self.hasher.verify(password, user.password_hash):
            await self._failed(username=username, address=address)
            raise InvalidCredentials
        await self.throttle.succeeded(account=username, address=address)
        return user.username

    async def login(
        self, *, username: str, password: str, address: str, user_agent: str = ""
    ) -> Session:
        registered = await self.authenticate(username=username, password=password, address=address)
        session = await self.sessions.create(registered, user_agent=user_agent)
        security_event("logged_in", username=registered, session=session.ref, address=address)
        return session

    async def _failed(self, *, username: str, address: str) -> None:
        count = await self.throttle.failed(account=username, address=address)
        security_event("login_failed", username=username, address=address)
        if count.alert:
            # Many addresses guessing one account: the limits only slow this down, so a person
            # should look (and may block the addresses upstream).
            security_event(
                "login_failures_from_many_addresses",
                level=logging.WARNING,
                username=username,
                failures=count.failures,
            )

    async def change_password(
        self, *, session: Session, current: str, new: str, address: str
    ) -> list[SessionInfo]:
        """Check `current` as a login would (throttled; a wrong one counts as a failed login,
        so a stolen session cannot be used to guess the password), store the hash of `new`,
        and end every other session of the account (OWASP Session Management Cheat Sheet,
        "Renew the Session ID After Any Privilege Level Change"). Returns the sessions ended,
        for the caller to tell their sockets. Raises WeakPassword, TooManyAttempts or
        WrongPassword."""
        problem = self.policy.problem(new)
        if problem is not None:
            raise WeakPassword(problem)
        try:
            username = await self.authenticate(
                username=session.username, password=current, address=address
            )
        except InvalidCredentials:
            raise WrongPassword from None
        if not await self.users.set_password_hash(username, await self.hasher.hash(new)):
            raise WrongPassword
        security_event("password_changed", username=username, session=session.ref, address=address)
        return await self.sessions.end_others(username, keep=session)
