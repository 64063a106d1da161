"""The HTTP API fuzzed from its own OpenAPI document (schemathesis), plus the edge cases a
fuzzer does not reach: oversized bodies, foreign content types, undecodable JSON, and error
answers the document should declare.

Each operation is tested as a caller without a session, and the protected ones also as a
logged-in user: the schemathesis coverage cases (boundary values, missing and mistyped fields,
foreign content types) and then `FUZZ_EXAMPLES` generated cases each of valid and invalid data.
Every answer must be no 5xx, and a documented status code with the documented content type and
body; invalid data must be refused with a 4xx. Generation is derandomized, so a failure
reproduces. Failures are collected per operation and reported with a curl command each."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.client import HTTPConnection
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from parley.errors import ErrorCode
from tests.fuzz.stats import record_example
from tests.servers import AppServer
from tests.utils import PASSWORD

FUZZ_EXAMPLES = 50
SCHEMA_PATH = "/api/openapi.json"
COOKIE = "parley_session"

# Every operation of the document: (method, path) → needs a session. A route added to the app
# without being listed here fails `test_every_operation_is_fuzzed`, so it cannot go untested.
OPERATIONS: dict[tuple[str, str], bool] = {
    ("POST", "/api/auth/register"): False,
    ("POST", "/api/auth/login"): False,
    ("POST", "/api/auth/logout"): True,
    ("GET", "/api/auth/me"): True,
    ("GET", "/api/auth/sessions"): True,
    ("DELETE", "/api/auth/sessions/{id}"): True,
    ("POST", "/api/auth/password"): True,
    ("GET", "/api/rooms"): True,
    ("POST", "/api/rooms"): True,
    ("GET", "/api/rooms/{room}/messages"): True,
    ("GET", "/api/rooms/{room}/changes"): True,
    ("GET", "/api/rooms/directory"): True,
    ("GET", "/api/rooms/{room}"): True,
    ("PATCH", "/api/rooms/{room}"): True,
    ("POST", "/api/rooms/{room}/join"): True,
    ("POST", "/api/rooms/{room}/leave"): True,
    ("GET", "/api/rooms/{room}/members"): True,
    ("POST", "/api/rooms/{room}/members"): True,
    ("DELETE", "/api/rooms/{room}/members/{username}"): True,
    ("PATCH", "/api/rooms/{room}/members/{username}"): True,
    ("GET", "/api/rooms/{room}/bans"): True,
    ("DELETE", "/api/rooms/{room}/bans/{username}"): True,
    ("POST", "/api/rooms/{room}/read"): True,
    ("POST", "/api/dms"): True,
    ("GET", "/healthz"): False,
    ("GET", "/readyz"): False,
}
LOGOUT = ("POST", "/api/auth/logout")
# Each wrong current password counts as a failed login of the account: fuzzed as the shared
# user, it would lock that user out of the logins every other operation needs.
PASSWORD_CHANGE = ("POST", "/api/auth/password")

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS: list[CheckFunction] = [*CHECKS, negative_data_rejection]
UNEXPECTED_METHOD_CHECKS: list[CheckFunction] = [not_a_server_error]


@dataclass
class Report:
    operation: str
    identity: str
    cases: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def record(self, case: Case[Any], response: Any, group: FailureGroup, headers: Any) -> None:
        for failure in group.exceptions:
            key = (type(failure).__name__, failure._unique_key)
            if key not in self.failures:
                curl = case.as_curl_command(headers=_redacted(headers))
                self.failures[key] = (
                    f"{failure.code} {failure.title}: {failure.message}\n"
                    f"    answer: {response.status_code} {response.text[:300]!r}\n"
                    f"    reproduce: {curl}"
                )

    def summary(self) -> str:
        lines = [f"{self.operation} as {self.identity}: {len(self.failures)} distinct failures"]
        lines += self.failures.values()
        return "\n".join(lines)


def _redacted(headers: Any) -> dict[str, str]:
    redacted = dict(headers or {})
    if "Cookie" in redacted:
        redacted["Cookie"] = f"{COOKIE}=<session>"
    return redacted


@pytest.fixture(scope="module")
def api_schema(http_fuzz_app: AppServer) -> schemathesis.BaseSchema:
    # An explicit Config: no schemathesis.toml found on the way up may change what is tested.
    return schemathesis.openapi.from_url(
        http_fuzz_app.url + SCHEMA_PATH, config=schemathesis.Config(), timeout=10
    )


@pytest.fixture(scope="module")
def fuzz_user(http_fuzz_app: AppServer) -> str:
    return _new_user(http_fuzz_app)


def _new_user(http_fuzz_app: AppServer) -> str:
    username = f"fuzz_{secrets.token_hex(4)}"
    with httpx.Client(base_url=http_fuzz_app.url, timeout=10) as http:
        response = http.post(
            "/api/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code in (201, 409), response.text
    return username


def _login(app: AppServer, username: str) -> str:
    with httpx.Client(base_url=app.url, timeout=10) as http:
        response = http.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.cookies[COOKIE]


def _session_alive(app: AppServer, cookie: str) -> bool:
    with httpx.Client(base_url=app.url, timeout=10, cookies={COOKIE: cookie}) as http:
        return http.get("/api/auth/me").status_code == 200


def _identities() -> Iterator[Any]:
    for (method, path), protected in OPERATIONS.items():
        yield pytest.param(method, path, "anonymous", id=f"{method} {path} anonymous")
        if protected:
            yield pytest.param(method, path, "user", id=f"{method} {path} user")


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    found, broken = set(), []
    for result in api_schema.get_all_operations():
        if isinstance(result, Ok):
            found.add((result.ok().method.upper(), result.ok().path))
        else:
            broken.append(str(result.err()))
    assert broken == []
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "identity"), list(_identities()))
def test_operation_fuzz(
    api_schema: schemathesis.BaseSchema,
    http_fuzz_app: AppServer,
    fuzz_user: str,
    request: pytest.FixtureRequest,
    method: str,
    path: str,
    identity: str,
) -> None:
    operation = api_schema[path][method]
    report = Report(operation.label, identity)
    if (method, path) == PASSWORD_CHANGE:
        fuzz_user = _new_user(http_fuzz_app)
    base_url = http_fuzz_app.url

    def headers_for_case() -> dict[str, str]:
        if identity == "anonymous":
            return {}
        # Logging out ends the session: every logout case gets a fresh one.
        fresh = (method, path) == LOGOUT
        return {"Cookie": f"{COOKIE}={_login(http_fuzz_app, fuzz_user) if fresh else cookie}"}

    cookie = _login(http_fuzz_app, fuzz_user) if identity == "user" else ""

    def run(case: Case[Any], mode: GenerationMode) -> None:
        stats = record_example(request.node.nodeid)
        report.cases += 1
        headers = headers_for_case()
        unexpected_method = case.method.upper() != method
        response = case.call(base_url=base_url, headers=headers, timeout=20)
        answer = f"{case.method.upper()} {response.status_code}"
        stats.outcomes[answer] = stats.outcomes.get(answer, 0) + 1
        checks: list[CheckFunction]
        if unexpected_method:
            checks = UNEXPECTED_METHOD_CHECKS
        elif mode is GenerationMode.NEGATIVE:
            checks = NEGATIVE_CHECKS
        else:
            checks = CHECKS
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            report.record(case, response, group, headers)
        except Failure as failure:
            report.record(case, response, FailureGroup([failure]), headers)
        if (method, path) == LOGOUT and identity == "user" and response.status_code == 204:
            assert not _session_alive(http_fuzz_app, headers["Cookie"].split("=", 1)[1])
        if unexpected_method:
            # Not in the document, so no schema to hold it to; the contract's error shape still.
            assert 400 <= response.status_code < 500, (case.method, response.status_code)
            assert "error" in response.json(), response.text
            assert response.json()["code"] in set(ErrorCode), response.text

    # 1. The coverage cases: deterministic boundary and type probes.
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    generation = api_schema.config.generation_for(operation=operation, phase="coverage")
    for case in api_schema.iter_coverage_cases(
        operation, generation_modes=modes, generation_config=generation
    ):
        mode = case._meta.generation.mode if case._meta else GenerationMode.POSITIVE
        run(case, mode)

    # 2. Generated cases, valid and invalid.
    for mode in modes:
        if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue
        strategy = operation.as_strategy(generation_mode=mode, phase=TestPhase.FUZZING)
        _fuzz(strategy, partial(run, mode=mode))

    if identity == "user" and (method, path) != LOGOUT:
        assert _session_alive(http_fuzz_app, cookie), "the session died during the fuzz"
    print(f"{operation.label} as {identity}: {report.cases} cases")
    if report.failures:
        pytest.fail(report.summary(), pytrace=False)


def _has_inputs(operation: Any) -> bool:
    return bool(list(operation.iter_parameters())) or bool(list(operation.body))


def _fuzz(strategy: st.SearchStrategy[Case[Any]], body: Callable[[Case[Any]], None]) -> None:
    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Case[Any]) -> None:
        body(case)

    fuzz()


# --- what the fuzzer does not reach -----------------------------------------------------------

TWO_MEGABYTES = 2 * 1024 * 1024
JSON_TYPE = {"Content-Type": "application/json"}
CODES = {413: "too_large", 415: "unsupported", 422: "invalid"}


@pytest.fixture
def http(http_fuzz_app: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=http_fuzz_app.url, timeout=30) as client:
        yield client


def assert_json_error(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json", response.headers
    assert isinstance(response.json()["error"], str), response.text
    assert response.json()["code"] == CODES[response.status_code], response.text


def test_oversized_body_is_refused_with_413(http: httpx.Client) -> None:
    body = '{"username": "%s", "password": "correct horse"}' % ("x" * TWO_MEGABYTES)
    response = http.post("/api/auth/register", content=body, headers=JSON_TYPE)
    assert response.status_code == 413, (response.status_code, response.text[:200])
    assert_json_error(response)


@pytest.mark.parametrize(
    "body", ['{"username": "%s", "password": "%s"}', "hello"], ids=["credentials", "text"]
)
def test_wrong_content_type_is_refused_with_a_json_error(
    http: httpx.Client, fuzz_user: str, body: str
) -> None:
    # Also a CSRF property: a cross-site form can send text/plain without a preflight, so
    # valid credentials sent that way must not log in.
    content = body % (fuzz_user, PASSWORD) if "%s" in body else body
    response = http.post("/api/auth/login", content=content, headers={"Content-Type": "text/plain"})
    assert response.status_code in (415, 422), response.text
    assert_json_error(response)
    assert COOKIE not in response.cookies


def test_a_post_without_body_or_content_length_reaches_the_route(http_fuzz_app: AppServer) -> None:
    # httpx and requests always add "Content-Length: 0"; http.client sends only what it is told.
    connection = HTTPConnection("127.0.0.1", http_fuzz_app.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/auth/logout")
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status == 204, (status, body)


def test_undecodable_json_body_is_a_documented_422(
    http: httpx.Client, http_fuzz_app: AppServer, fuzz_user: str
) -> None:
    cookie = {"Cookie": f"{COOKIE}={_login(http_fuzz_app, fuzz_user)}"}
    answers = {
        path: http.post(path, content=b'{"name": "\x80"}', headers=JSON_TYPE | cookie)
        for path in ("/api/auth/register", "/api/auth/login", "/api/rooms")
    }
    for response in answers.values():
        assert_json_error(response)
    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 422)


@pytest.mark.parametrize("body", [b"{", b'{"name": "\x80"}'])
def test_protected_route_without_a_session_answers_401_whatever_the_body(
    http: httpx.Client, body: bytes
) -> None:
    response = http.post("/api/rooms", content=body, headers=JSON_TYPE)
    assert response.status_code == 401, response.text
    assert response.json() == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "redirect": "/login",
    }


def test_document_declares_the_errors_the_app_gives(
    api_schema: schemathesis.BaseSchema, http: httpx.Client
) -> None:
    # Each of them is real.
    assert (
        http.post("/api/auth/logout", headers={"Origin": "https://evil.example"}).status_code == 403
    )
    text = {"Content-Type": "text/plain"}
    assert http.post("/api/auth/register", content="x", headers=text).status_code == 415
    huge = "x" * (TWO_MEGABYTES)
    assert http.post("/api/auth/register", content=huge, headers=JSON_TYPE).status_code == 413
    paths = api_schema.raw_schema["paths"]
    missing = [] if "503" in paths["/readyz"]["get"]["responses"] else ["GET /readyz 503"]
    for path, operations in paths.items():
        post = operations.get("post")
        if post is None:
            continue
        wanted = ["403", "413", "415"] if "requestBody" in post else ["403"]
        missing += [f"POST {path} {code}" for code in wanted if code not in post["responses"]]
    assert missing == []
