"""Dependencies as Annotated aliases, so a route's signature says what it needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from parley.api.errors import Unauthorized
from parley.api.state import running_in
from parley.client_address import client_address as address_of
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


def client_address(request: Request, services: ServicesDep) -> str:
    peer = request.client.host if request.client else None
    return address_of(request.headers.get, peer, services.settings)


ClientAddress = Annotated[str, Depends(client_address)]
