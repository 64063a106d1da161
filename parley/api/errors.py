"""Every error leaves as `{"error": "<message>", "code": "<code>"}` (parley.errors) with a 4xx/5xx
status, never a traceback."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley.api.state import started
from parley.errors import (
    BACKEND_ERRORS,
    ErrorCode,
    Problem,
    Refused,
    backend_unavailable,
    code_for_status,
)
from parley.metrics import Metrics

log = logging.getLogger(__name__)

LOGIN_PAGE = "/login"


class Unauthorized(Refused):
    """No live session: the answer also sends the browser to the login page."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.UNAUTHORIZED, "Unauthorized")


def problem_response(
    problem: Problem,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body = {**problem.body(), **extra}
    all_headers = dict(headers or {})
    if problem.retry_after is not None:
        # RFC 9110, 10.2.3: whole seconds.
        all_headers["Retry-After"] = str(math.ceil(problem.retry_after))
    return JSONResponse(body, status_code=status or problem.status, headers=all_headers or None)


def error_response(code: ErrorCode, message: str) -> JSONResponse:
    return problem_response(Problem(code, message))


def session_required() -> JSONResponse:
    return problem_response(Unauthorized().problem, redirect=LOGIN_PAGE)


def describe_validation_error(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        field = ".".join(location)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts) or "Invalid request"


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refused)
    if isinstance(exc, Unauthorized):
        return session_required()
    return problem_response(exc.problem)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(ErrorCode.INVALID, describe_validation_error(exc))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's answer to a body it could not decode
        return error_response(ErrorCode.INVALID, "Body is not valid JSON (UTF-8)")
    problem = Problem(code_for_status(exc.status_code), str(exc.detail))
    return problem_response(problem, status=exc.status_code, headers=exc.headers)


def _metrics(request: Request) -> Metrics | None:
    running = started(request.scope)
    return running.services.metrics if running is not None else None


async def _backend_down(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BACKEND_ERRORS)
    return problem_response(backend_unavailable(exc, _metrics(request)))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(ErrorCode.INTERNAL, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for backend_error in BACKEND_ERRORS:
        app.add_exception_handler(backend_error, _backend_down)
    app.add_exception_handler(Exception, _unexpected)
