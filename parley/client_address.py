"""The client's address for per-address limits: one rule for the HTTP routes
(parley/api/deps.py) and the Socket.IO handshake (parley/realtime/namespace.py), so neither
path lets a client pick its own address by writing the client-IP header."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from parley.config import Settings

ORIGIN_SECRET_HEADER = "X-Parley-Origin-Verify"  # noqa: S105  # a header name, not a secret

HeaderLookup = Callable[[str], str | None]
"""A request's header by name, case-insensitively (None when absent)."""


def from_trusted_front(header: HeaderLookup, settings: Settings) -> bool:
    """Whether the request carries the origin secret only the trusted front (CloudFront) sends;
    compared in constant time, so the secret cannot be guessed byte by byte."""
    if settings.origin_secret is None:
        return False
    sent = header(ORIGIN_SECRET_HEADER)
    if sent is None:
        return False
    expected = settings.origin_secret.get_secret_value()
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode())


def client_address(header: HeaderLookup, peer: str | None, settings: Settings) -> str:
    """`PARLEY_CLIENT_IP_HEADER` on a request from the trusted front, else the peer. Anyone can
    write the client-IP header, so it counts only with the origin secret beside it."""
    name = settings.client_ip_header
    forwarded = header(name) if name else None
    if forwarded and from_trusted_front(header, settings):
        # "203.0.113.9:46532" or "[2001:db8::1]:46532": the address without its port.
        return forwarded.rsplit(":", 1)[0].strip("[]") if ":" in forwarded else forwarded
    return peer or "unknown"


def environ_header(environ: Mapping[str, object]) -> HeaderLookup:
    """A header lookup over an ASGI-to-WSGI environ (the Socket.IO handshake's `environ`)."""

    def lookup(name: str) -> str | None:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        return None if value is None else str(value)

    return lookup
