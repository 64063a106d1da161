"""Every error leaves as `{"error": "<message>"}` with a 4xx/5xx code, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley.api.state import started
from parley.storage.dynamo import StorageUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class Unauthorized(ApiError):
    def __init__(self) -> None:
        super().__init__(401, "Unauthorized")


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: str
) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def describe_validation_error(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        field = ".".join(location)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts) or "Invalid request"


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if isinstance(exc, Unauthorized):
        return error_response(401, exc.message, redirect="/login")
    return error_response(exc.status, exc.message, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, describe_validation_error(exc))


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's answer to a body it could not decode
        return error_response(422, "Body is not valid JSON (UTF-8)")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


def _count_backend_error(request: Request, backend: str) -> None:
    running = started(request.scope)
    if running is not None:
        running.services.metrics.backend_errors.labels(backend).inc()


async def _redis_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("redis unavailable: %s", exc)
    _count_backend_error(request, "redis")
    return error_response(503, "Session store unavailable, try again shortly")


async def _dynamo_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("dynamodb unavailable: %s", exc)
    _count_backend_error(request, "dynamodb")
    return error_response(503, "Database unavailable, try again shortly")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RedisError, _redis_down)
    app.add_exception_handler(StorageUnavailable, _dynamo_down)
    app.add_exception_handler(Exception, _unexpected)
