"""The HTTP Lambda: API Gateway (HTTP API, payload 2.0) → Mangum → the same FastAPI app that
`parley serve` runs, without the socket side (that runs on Fargate, see infra/template.yaml)."""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from parley.app import create_api
from parley.aws.runtime import cold_start_settings
from parley.config import Settings

# Built on the first invocation and kept for the life of the Lambda container.
_adapter: Mangum | None = None


def make_handler(settings: Settings) -> Mangum:
    # lifespan="auto": Mangum runs the app's start-up and shut-down around each invocation,
    # so no connection outlives the event loop it was made on.
    return Mangum(create_api(settings), lifespan="auto")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _adapter
    if _adapter is None:
        _adapter = make_handler(cold_start_settings())
    response: dict[str, Any] = _adapter(event, context)
    return response
