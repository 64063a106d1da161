"""A Lambda's cold start (parley/aws/runtime.py): JSON logging, and PARLEY_REDIS_URL read from
Secrets Manager (moto's in-process mock of AWS)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from parley.aws.runtime import cold_start_settings
from parley.config import ConfigError

REDIS_URL = "rediss://:token-from-the-secret@redis.internal:6379/0"


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "PARLEY_REDIS_URL",
        "PARLEY_REDIS_URL_SECRET_ARN",
        "PARLEY_ORIGIN_SECRET",
        "PARLEY_ORIGIN_SECRET_ARN",
        "PARLEY_LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def secret_arn() -> Iterator[str]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        yield client.create_secret(Name="parley-redis-url", SecretString=REDIS_URL)["ARN"]


def test_the_redis_url_comes_from_secrets_manager(
    secret_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_REDIS_URL_SECRET_ARN", secret_arn)
    settings = cold_start_settings()
    assert settings.redis_url == REDIS_URL
    assert settings.require_redis_url() == REDIS_URL


def test_the_origin_secret_comes_from_secrets_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(Name="origin", SecretString="from-cloudfront")["ARN"]
        monkeypatch.setenv("PARLEY_ORIGIN_SECRET_ARN", arn)
        settings = cold_start_settings()
    assert settings.origin_secret is not None
    assert settings.origin_secret.get_secret_value() == "from-cloudfront"
    assert "from-cloudfront" not in repr(settings)
    assert settings.redis_url is None


def test_an_explicit_redis_url_wins_and_no_secret_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_REDIS_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("PARLEY_REDIS_URL_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x")
    assert cold_start_settings().redis_url == "redis://localhost:6379/0"  # no AWS call made


def test_a_secret_that_is_no_redis_url_stops_the_cold_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(Name="wrong", SecretString="http://not-redis")["ARN"]
        monkeypatch.setenv("PARLEY_REDIS_URL_SECRET_ARN", arn)
        with pytest.raises(ConfigError, match="PARLEY_REDIS_URL"):
            cold_start_settings()


def test_the_cold_start_logs_json_lines(
    secret_arn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARLEY_REDIS_URL_SECRET_ARN", secret_arn)
    monkeypatch.setenv("PARLEY_LOG_FORMAT", "text")  # Lambda logs JSON whatever this says
    cold_start_settings()
    logging.getLogger("parley.accounts").warning("login failed for %s", "someone")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {"level": "info", "logger": "parley.aws.runtime"}.items() <= lines[0].items()
    assert lines[-1]["message"] == "login failed for someone"
    assert lines[-1]["level"] == "warning"
    assert "token-from-the-secret" not in json.dumps(lines)
