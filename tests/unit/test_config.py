"""Settings: read from PARLEY_* variables once, refused in one line that names the variable."""

from __future__ import annotations

import os

import pytest

from parley.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PARLEY_") or name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.host, settings.port, settings.redis_url) == ("127.0.0.1", 8000, None)
    assert (settings.table_prefix, settings.session_ttl, settings.aws_region) == (
        "parley-",
        1800,
        "us-east-1",
    )
    assert settings.cookie_secure
    assert settings.stream_consumer
    assert settings.session_max_age == 30 * 24 * 3600


def test_the_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_PORT", "9001")
    monkeypatch.setenv("PARLEY_REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("PARLEY_COOKIE_SECURE", "false")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings = load_settings()
    assert (settings.port, settings.redis_url) == (9001, "redis://cache:6379/2")
    assert not settings.cookie_secure
    assert settings.aws_region == "eu-west-1"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_PORT", "9001")
    assert load_settings(port=9002).port == 9002


def test_blank_optional_values_are_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_REDIS_URL", "  ")
    monkeypatch.setenv("PARLEY_DYNAMODB_ENDPOINT", "")
    settings = load_settings()
    assert settings.redis_url is None
    assert settings.dynamodb_endpoint is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PARLEY_PORT", "0", "PARLEY_PORT: Input should be greater than or equal to 1"),
        ("PARLEY_PORT", "http", "PARLEY_PORT: Input should be a valid integer"),
        (
            "PARLEY_REDIS_URL",
            "localhost:6379",
            "PARLEY_REDIS_URL: must start with redis://, rediss:// or unix://",
        ),
        (
            "PARLEY_DYNAMODB_ENDPOINT",
            "localhost:8000",
            "PARLEY_DYNAMODB_ENDPOINT: must be an http:// or https:// URL",
        ),
        ("PARLEY_TABLE_PREFIX", "no spaces", "PARLEY_TABLE_PREFIX: String should match pattern"),
        ("PARLEY_SESSION_TTL", "5", "PARLEY_SESSION_TTL: Input should be greater than or equal"),
        (
            "PARLEY_SESSION_MAX_AGE",
            "59",
            "PARLEY_SESSION_MAX_AGE: Input should be greater than or equal to 60",
        ),
        ("PARLEY_MESSAGE_RATE", "0", "PARLEY_MESSAGE_RATE: Input should be greater than 0"),
        ("PARLEY_BCRYPT_ROUNDS", "3", "PARLEY_BCRYPT_ROUNDS: Input should be greater than or"),
        ("PARLEY_COOKIE_SECURE", "maybe", "PARLEY_COOKIE_SECURE: Input should be a valid boolean"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_a_bad_region_names_the_aws_variable() -> None:
    with pytest.raises(ConfigError, match=r"^AWS_REGION: "):
        load_settings(aws_region=5)


def test_a_missing_redis_url_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError, match=r"^PARLEY_REDIS_URL is not set: .*redis://"):
        load_settings().require_redis_url()
    assert load_settings(redis_url="redis://r/0").require_redis_url() == "redis://r/0"


def test_origins_default_to_the_app_itself() -> None:
    settings = load_settings(host="0.0.0.0", port=8080)
    assert settings.origins == {
        "http://0.0.0.0:8080",
        "http://localhost:8080",
        "http://127.0.0.1:8080",
    }


def test_configured_origins_are_trimmed() -> None:
    settings = load_settings(allowed_origins=" https://chat.example/ , https://b.example")
    assert settings.origins == {"https://chat.example", "https://b.example"}


def test_the_cookie_is_host_bound_over_https_only() -> None:
    assert load_settings().cookie_name == "__Host-parley_session"
    assert load_settings(cookie_secure=False).cookie_name == "parley_session"
