"""Request bodies at the edge: JSON only, and small. Every API body (credentials, a room name)
fits in a few hundred bytes; refusing big ones early keeps a flood from reaching the parsers."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.api.errors import error_response
from parley.errors import ErrorCode

MAX_BODY_BYTES = 64 * 1024
_WITH_BODY = {"POST", "PUT", "PATCH"}


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunked = b"transfer-encoding" in headers
        has_body = chunked or (length is not None and int(length) > 0)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if has_body and content_type != b"application/json":
            response = error_response(
                ErrorCode.UNSUPPORTED, "Send JSON, with Content-Type: application/json"
            )
            await response(scope, receive, send)
            return
        if chunked:
            await self._pass_whole_body(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _pass_whole_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A chunked body has no Content-Length: read it here (it is small or refused), then
        hand it on whole."""
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left; let the app see it
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_bytes // 1024
        response = error_response(
            ErrorCode.TOO_LARGE, f"Request body too large (limit {limit} KiB)"
        )
        await response(scope, receive, send)
