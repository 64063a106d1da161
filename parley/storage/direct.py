"""DynamoDB's JSON protocol without botocore's machinery, for the one call on every message's
path: `PutItem`. Through aiobotocore a put cost about 4.5 ms of CPU in the client (event hooks,
endpoint rules, parameter validation, the user-agent string, a request object built and
signed in several passes, the response parsed against the service model); here it is one
JSON body (orjson), one Signature Version 4 signature with a signing key derived once a day
and one POST on the client's kept-alive aiohttp session (measured in bench/README.md, "Per
message").

It keeps what the caller relies on: the same endpoint, region and credentials as the
aiobotocore client (refreshable credentials are asked for on each call, which is free until
they are due), botocore's error type (`ClientError` with the same `Error.Code` and `Message`,
so storage/dynamo.py maps it as before), its retry policy as configured in CLIENT_CONFIG
(standard mode, 2 attempts in total: a retry after rand(0, 1) s on a connection error, a
throttling or transient error code, a 5xx or a CRC32 mismatch), its connect and read timeouts,
and the CRC32 check of DynamoDB's answers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import orjson
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

# The DynamoDB API's JSON protocol (botocore/data/dynamodb/2012-08-10/service-2.json).
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
SERVICE = "dynamodb"

# botocore's standard retry mode (botocore/retries/standard.py): what is worth a second try.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


class FrozenCredentials(Protocol):
    access_key: str
    secret_key: str
    token: str | None


class Credentials(Protocol):
    def get_frozen_credentials(self) -> Awaitable[FrozenCredentials]: ...


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class Signer:
    """AWS Signature Version 4 for a POST of a JSON body to `/` (what every DynamoDB call is):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
    The key derived from the secret, the day, the region and the service is kept for the day."""

    def __init__(self, *, host: str, region: str, service: str = SERVICE) -> None:
        self._host = host
        self._region = region
        self._service = service
        self._key: tuple[str, str, bytes] | None = None  # (secret, day, signing key)

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key is None or self._key[0] != secret or self._key[1] != day:
            key = _hmac(("AWS4" + secret).encode(), day)
            for part in (self._region, self._service, "aws4_request"):
                key = _hmac(key, part)
            self._key = (secret, day, key)
        return self._key[2]

    def headers(
        self, target: str, body: bytes, credentials: FrozenCredentials, now: float
    ) -> dict[str, str]:
        """The request's headers, `Authorization` included."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = stamp[:8]
        signed = {
            "content-type": CONTENT_TYPE,
            "host": self._host,
            "x-amz-date": stamp,
            "x-amz-target": target,
        }
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        order = sorted(signed)
        names = ";".join(order)
        canonical = "\n".join(
            (
                "POST",
                "/",
                "",
                "".join(f"{name}:{signed[name]}\n" for name in order),
                names,
                _sha256(body),
            )
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{_sha256(canonical.encode())}"
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Date": stamp,
            "X-Amz-Target": target,
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                f"SignedHeaders={names}, Signature={signature}"
            ),
        }
        if credentials.token:
            headers["X-Amz-Security-Token"] = credentials.token
        return headers


def _error_code(payload: dict[str, Any], headers: Any) -> str:
    """As botocore's JSON parser reads it: `__type` ("com.amazonaws...#Code"), else the
    `x-amzn-ErrorType` header ("Code:http://...")."""
    raw = str(payload.get("__type") or headers.get("x-amzn-ErrorType") or "")
    return raw.rsplit("#", 1)[-1].split(":", 1)[0]


def client_error(status: int, body: bytes, headers: Any, operation: str) -> ClientError:
    """The ClientError botocore would raise for this answer."""
    try:
        payload = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    code = _error_code(payload, headers) or str(status)
    response: dict[str, Any] = {
        "Error": {
            "Code": code,
            "Message": str(payload.get("message") or payload.get("Message") or ""),
        },
        "ResponseMetadata": {
            "HTTPStatusCode": status,
            "RequestId": headers.get("x-amzn-RequestId", ""),
        },
    }
    for name, value in payload.items():  # CancellationReasons, Item (ReturnValuesOnCondition...)
        if name not in {"__type", "message", "Message"}:
            response[name] = value
    return ClientError(response, operation)


class _Retryable(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class DirectDynamo:
    """Signed DynamoDB calls over one aiohttp session (kept-alive connections, at most
    `max_connections`, as botocore's pool)."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        credentials: Credentials,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        max_connections: int,
        clock: Callable[[], float] = time.time,
        backoff: Callable[[], float] = random.random,
    ) -> None:
        parts = urlsplit(endpoint_url)
        self._url = f"{parts.scheme}://{parts.netloc}/"
        self._signer = Signer(host=parts.netloc, region=region)
        self._credentials = credentials
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._max_attempts = max_attempts
        self._max_connections = max_connections
        self._clock = clock
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=12),
                timeout=self._timeout,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The operation's answer as botocore's client would return it for these operations
        (a JSON object; DynamoDB's attribute values stay in their typed form)."""
        body = orjson.dumps(params)
        attempt = 1
        while True:
            try:
                return await self._once(operation, body)
            except _Retryable as retry:
                if attempt >= self._max_attempts:
                    raise retry.error from None
            attempt += 1
            await asyncio.sleep(self._backoff())

    async def _once(self, operation: str, body: bytes) -> dict[str, Any]:
        credentials = await self._credentials.get_frozen_credentials()
        headers = self._signer.headers(TARGET_PREFIX + operation, body, credentials, self._clock())
        try:
            async with self._open().post(self._url, data=body, headers=headers) as response:
                answer = await response.read()
                status, answer_headers = response.status, response.headers
        except (aiohttp.ClientConnectorError, aiohttp.ClientOSError) as exc:
            raise _Retryable(EndpointConnectionError(endpoint_url=self._url, error=exc)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # dropped, or no answer in time
            raise _Retryable(ConnectionClosedError(endpoint_url=self._url, error=exc)) from exc
        crc = answer_headers.get("x-amz-crc32")
        if crc is not None and int(crc) != zlib.crc32(answer):
            raise _Retryable(ConnectionClosedError(endpoint_url=self._url, error="CRC32 mismatch"))
        if status >= 300:
            error = client_error(status, answer, answer_headers, operation)
            code = error.response["Error"]["Code"]
            if status in TRANSIENT_STATUS or code in THROTTLING_CODES or code in TRANSIENT_CODES:
                raise _Retryable(error)
            raise error
        parsed = orjson.loads(answer) if answer else {}
        return parsed if isinstance(parsed, dict) else {}
