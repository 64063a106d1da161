"""Who may open a socket: an allowed Origin (or none) and the session cookie."""

from __future__ import annotations

from typing import Any

from parley.realtime.handshake import cookie_value, origin_allowed, release

ALLOWED = frozenset({"https://chat.example"})


def test_an_allowed_origin_passes_with_or_without_a_trailing_slash() -> None:
    assert origin_allowed({"HTTP_ORIGIN": "https://chat.example"}, ALLOWED)
    assert origin_allowed({"HTTP_ORIGIN": "https://chat.example/"}, ALLOWED)


def test_a_foreign_origin_is_refused() -> None:
    assert not origin_allowed({"HTTP_ORIGIN": "https://evil.example"}, ALLOWED)


def test_no_origin_is_a_non_browser_client() -> None:
    assert origin_allowed({}, ALLOWED)


def test_the_named_cookie_is_found_among_others() -> None:
    environ = {"HTTP_COOKIE": "theme=dark; parley_session=abc-123; other=1"}
    assert cookie_value(environ, "parley_session") == "abc-123"
    assert cookie_value(environ, "missing") is None


def test_no_or_broken_cookie_header_gives_none() -> None:
    assert cookie_value({}, "parley_session") is None
    assert cookie_value({"HTTP_COOKIE": ""}, "parley_session") is None
    assert cookie_value({"HTTP_COOKIE": 'parley_session="unterminated'}, "parley_session") is None
    # A key the cookie grammar refuses makes http.cookies refuse the whole header.
    broken = {"HTTP_COOKIE": "bad(key)=1; parley_session=abc"}
    assert cookie_value(broken, "parley_session") is None


def test_release_keeps_nothing_of_the_request_a_later_event_needs_not() -> None:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_COOKIE": "parley_session=secret",
        "HTTP_ORIGIN": "https://chat.example",
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "wsgi.input": object(),
        "asgi.scope": {"type": "websocket"},
    }
    release(environ)
    assert environ == {
        "REQUEST_METHOD": "GET",
        "REMOTE_ADDR": "10.0.0.1",
        "asgi.scope": {"type": "websocket"},
    }


def test_release_empties_the_scopes_headers_in_place() -> None:
    """The server's protocol holds the same scope: its headers list goes too."""
    headers = [(b"cookie", b"parley_session=secret"), (b"origin", b"https://chat.example")]
    scope: dict[str, Any] = {"type": "websocket", "headers": headers, "path": "/socket.io/"}
    environ: dict[str, Any] = {"HTTP_COOKIE": "parley_session=secret", "asgi.scope": scope}
    release(environ)
    assert headers == []
    assert environ == {"asgi.scope": {"type": "websocket", "headers": [], "path": "/socket.io/"}}
