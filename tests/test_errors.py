"""parley.errors: the codes and their statuses, the shape of an error, the one answer to a
backend that is down; and no code that nothing gives."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

import parley
from parley.api.errors import problem_response, session_required
from parley.api.schemas import ERROR_BODIES
from parley.errors import (
    UNAVAILABLE_RETRY_SECONDS,
    ErrorCode,
    Problem,
    Refused,
    backend_unavailable,
    code_for_status,
)
from parley.metrics import Metrics
from parley.storage.dynamo import StorageUnavailable

PACKAGE = Path(parley.__file__).parent
REFERENCE = PACKAGE.parent / "docs" / "reference.md"
# Modules that name codes without giving them: their definition, and the OpenAPI document.
NOT_PRODUCERS = {PACKAGE / "errors.py", PACKAGE / "api" / "schemas.py"}


def codes_named_in(path: Path) -> set[str]:
    return {
        node.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ErrorCode"
    }


def test_every_code_is_given_somewhere() -> None:
    given: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path not in NOT_PRODUCERS:
            given |= codes_named_in(path)
    assert {code.name for code in ErrorCode} - given == set()


def documented_codes(reference: str) -> dict[str, str]:
    """The table of codes under "## Errors": each code and its HTTP status ("—": socket only)."""
    section = reference.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    return {cells[0].strip().strip("`"): cells[1].strip().strip("`") for cells in rows}


def test_every_code_is_documented_with_its_status() -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is not written yet")
    documented = documented_codes(REFERENCE.read_text())
    assert set(documented) == {code.value for code in ErrorCode}
    assert {
        code: status
        for code, status in documented.items()
        if status != "—" and int(status) != ErrorCode(code).status
    } == {}


def test_each_documented_error_body_carries_the_code_of_its_status() -> None:
    for status, body in ERROR_BODIES.items():
        code = body.model_json_schema()["properties"]["code"]["const"]
        assert ErrorCode(code).status == status
        assert code_for_status(status) == code
        assert "code" in body.model_json_schema()["required"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, ErrorCode.NOT_FOUND),
        (405, ErrorCode.NOT_FOUND),
        (413, ErrorCode.TOO_LARGE),
        (418, ErrorCode.INVALID),
        (502, ErrorCode.INTERNAL),
    ],
)
def test_statuses_raised_without_a_code_get_one(status: int, code: ErrorCode) -> None:
    assert code_for_status(status) is code


def test_an_error_is_its_message_and_code_and_only_the_wait_that_applies() -> None:
    assert Problem(ErrorCode.CONFLICT, "taken").body() == {"error": "taken", "code": "conflict"}
    limited = Problem(ErrorCode.RATE_LIMITED, "slow down", retry_after=0.4)
    assert limited.status == 429
    assert limited.ack() == {
        "ok": False,
        "error": "slow down",
        "code": "rate_limited",
        "retryAfter": 0.4,
    }
    refused = Refused(ErrorCode.NOT_FOUND, "No room 'x'")
    assert str(refused) == "No room 'x'"
    assert refused.problem == Problem(ErrorCode.NOT_FOUND, "No room 'x'")


def test_the_http_answer_rounds_the_wait_up_to_whole_seconds() -> None:
    response = problem_response(Problem(ErrorCode.RATE_LIMITED, "wait", retry_after=0.4))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert json.loads(response.body) == {"error": "wait", "code": "rate_limited", "retryAfter": 0.4}
    assert "retry-after" not in problem_response(Problem(ErrorCode.INVALID, "bad")).headers


def test_a_missing_session_sends_the_browser_to_log_in() -> None:
    response = session_required()
    assert response.status_code == 401
    assert json.loads(response.body) == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "redirect": "/login",
    }


def backend_errors(metrics: Metrics, backend: str) -> float:
    value = metrics.registry.get_sample_value("parley_backend_errors_total", {"backend": backend})
    return value or 0.0


@pytest.mark.parametrize(
    ("error", "backend", "message"),
    [
        (RedisConnectionError("refused"), "redis", "Session store unavailable, try again shortly"),
        (
            RedisClusterException("Redis Cluster cannot be connected"),
            "redis",
            "Session store unavailable, try again shortly",
        ),
        (
            StorageUnavailable("DynamoDB: timeout"),
            "dynamodb",
            "Database unavailable, try again shortly",
        ),
    ],
)
def test_a_backend_down_is_unavailable_counted_and_logged(
    error: RedisConnectionError | RedisClusterException | StorageUnavailable,
    backend: str,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    problem = backend_unavailable(error, metrics)
    assert problem == Problem(ErrorCode.UNAVAILABLE, message, UNAVAILABLE_RETRY_SECONDS)
    assert problem.status == 503
    assert backend_errors(metrics, backend) == 1
    assert f"{backend} unavailable: {error}" in caplog.text
    assert backend_unavailable(error, None) == problem  # before the services exist
