"""The one settings object, read from the environment once at start-up (docs/reference.md,
"Settings")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley.logs import LogFormat


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    redis_url: str | None = None
    # A Redis Cluster (ElastiCache in cluster mode, ElastiCache Serverless): PARLEY_REDIS_URL
    # names one of its nodes (or its configuration endpoint) and the client follows the
    # cluster's slot map from there (parley/container.py `open_redis`).
    redis_cluster: bool = False
    # How broadcasts reach the other instances (parley/realtime/manager.py): a Redis channel per
    # room, user and session, subscribed while a local socket needs it, or the one channel of
    # python-socketio's Redis manager that every instance receives whole.
    bus: Literal["sharded", "broadcast"] = "sharded"
    dynamodb_endpoint: str | None = None
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    table_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{0,200}$")] = "parley-"
    session_ttl: Annotated[int, Field(ge=10, le=30 * 24 * 3600)] = 1800
    # The absolute lifetime (OWASP Session Management Cheat Sheet, "Absolute Timeout"): a
    # session ends this long after login however active it is.
    session_max_age: Annotated[int, Field(ge=60, le=365 * 24 * 3600)] = 30 * 24 * 3600
    allowed_origins: str | None = None
    message_rate: Annotated[float, Field(gt=0, le=10_000)] = 10
    message_burst: Annotated[int, Field(ge=1, le=100_000)] = 30
    # Multiplies every socket event budget (parley/realtime/limits.py); tests and benchmarks
    # that drive one socket hard raise it, as they raise the message rate.
    socket_budget_scale: Annotated[float, Field(gt=0, le=10_000)] = 1
    bcrypt_rounds: Annotated[int, Field(ge=4, le=31)] = 12
    cookie_secure: bool = True
    # Login throttling (OWASP Authentication Cheat Sheet, "Login Throttling"), never a lock of
    # the account: parley/storage/throttle.py.
    login_free_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    login_delay_seconds: Annotated[int, Field(ge=1, le=3600)] = 1
    login_max_failures_per_address: Annotated[int, Field(ge=1)] = 30
    login_lockout_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 900
    login_alert_addresses_per_account: Annotated[int, Field(ge=1, le=10_000)] = 10
    # Each registration costs a bcrypt hash and a user item.
    register_max_per_address: Annotated[int, Field(ge=1)] = 20
    register_window_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 3600
    web_dist: str | None = None
    # Behind a proxy that sets it (CloudFront: CloudFront-Viewer-Address), the header that
    # carries the client's address, for per-address login throttling.
    client_ip_header: str | None = None
    # The value the trusted front (CloudFront) sends in X-Parley-Origin-Verify. The client-IP
    # header above is honoured only on requests that carry it: anyone else can write that header.
    origin_secret: SecretStr | None = None
    # Lambdas: Secrets Manager secrets holding PARLEY_REDIS_URL and PARLEY_ORIGIN_SECRET, read
    # once at cold start (parley/aws/runtime.py) instead of sitting in the environment.
    redis_url_secret_arn: str | None = None
    origin_secret_arn: str | None = None
    # Off where another runner (the Lambda of infra/template.yaml) reads the stream.
    stream_consumer: bool = True
    # "auto": readable lines under `parley dev` on a terminal, JSON lines otherwise.
    log_format: LogFormat = "auto"

    @field_validator(
        "redis_url",
        "dynamodb_endpoint",
        "allowed_origins",
        "web_dist",
        "client_ip_header",
        "redis_url_secret_arn",
        "origin_secret_arn",
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("origin_secret", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("dynamodb_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def origins(self) -> frozenset[str]:
        """Origins allowed for browsers and Socket.IO handshakes."""
        if self.allowed_origins:
            return frozenset(o.strip().rstrip("/") for o in self.allowed_origins.split(","))
        own = {f"http://{self.host}:{self.port}"}
        return frozenset(own | {f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"})

    @property
    def cookie_name(self) -> str:
        # A __Host- cookie is only accepted over HTTPS, for this exact host and path "/"
        # (RFC 6265bis §4.1.3.2), so it cannot be planted by a sibling subdomain.
        return "__Host-parley_session" if self.cookie_secure else "parley_session"

    def require_redis_url(self) -> str:
        if self.redis_url is None:
            raise ConfigError(
                "PARLEY_REDIS_URL is not set: point it at your Redis, e.g. redis://localhost:6379/0"
            )
        return self.redis_url


def _variable_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.startswith("AWS_"):  # a validation alias is reported by its own name
        return field
    return f"PARLEY_{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Read the environment (overrides win, e.g. command-line options); one clear line if bad."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{_variable_name(error['loc'])}: {reason}") from None
