"""Dependencies as Annotated aliases, so a route's signature says what it needs."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from parley.api.errors import Unauthorized
from parley.api.state import running_in
from parley.config import Settings
from parley.container import EndSession
from parley.conversations import Conversations
from parley.services import Services
from parley.storage.sessions import Session


def get_services(request: Request) -> Services:
    return running_in(request.scope).services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_conversations(request: Request) -> Conversations:
    return running_in(request.scope).conversations


ConversationsDep = Annotated[Conversations, Depends(get_conversations)]


def get_end_session(request: Request) -> EndSession:
    return running_in(request.scope).end_session


EndSessionDep = Annotated[EndSession, Depends(get_end_session)]


def session_key(request: Request, services: ServicesDep) -> str | None:
    return request.cookies.get(services.settings.cookie_name)


def current_session(request: Request) -> Session:
    """The caller's live session, found (and its TTL restarted) by api.session_gate."""
    session: Session | None = getattr(request.state, "session", None)
    if session is None:  # a route the gate does not cover: a mistake in PUBLIC_API_PATHS
        raise Unauthorized
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


ORIGIN_SECRET_HEADER = "X-Parley-Origin-Verify"  # noqa: S105  # a header name, not a secret


def from_trusted_front(request: Request, settings: Settings) -> bool:
    """Whether the request carries the origin secret only the trusted front (CloudFront) sends;
    compared in constant time, so the secret cannot be guessed byte by byte."""
    if settings.origin_secret is None:
        return False
    sent = request.headers.get(ORIGIN_SECRET_HEADER)
    if sent is None:
        return False
    expected = settings.origin_secret.get_secret_value()
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode())


def client_address(request: Request, services: ServicesDep) -> str:
    settings = services.settings
    header = settings.client_ip_header
    # Anyone can write the client-IP header, so it counts only on a request from the front.
    forwarded = request.headers.get(header) if header else None
    if forwarded and from_trusted_front(request, settings):
        # "203.0.113.9:46532" or "2001:db8::1:46532": the address without its port.
        return forwarded.rsplit(":", 1)[0].strip("[]") if ":" in forwarded else forwarded
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
