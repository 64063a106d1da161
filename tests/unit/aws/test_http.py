"""The HTTP Lambda: an API Gateway (HTTP API, payload 2.0) event through Mangum to the app."""

from __future__ import annotations

import json
from typing import Any

from parley.aws.http import make_handler
from parley.config import Settings
from parley.storage.dynamo import TableNames

NO_CONTEXT: Any = None  # the LambdaContext, unused by the app


def event(method: str, path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "::1"},
            "requestId": "r1",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_an_api_gateway_event_reaches_the_app(unit_settings: Settings, tables: TableNames) -> None:
    handler = make_handler(unit_settings)
    response = handler(event("GET", "/readyz"), NO_CONTEXT)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ready"}
    unauthorized = handler(event("GET", "/api/rooms"), NO_CONTEXT)
    assert unauthorized["statusCode"] == 401
