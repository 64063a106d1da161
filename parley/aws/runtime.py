"""What every Lambda does once per cold start: JSON logging (the app's own lines, security
events included, as `parley serve` writes them) and the settings, with PARLEY_REDIS_URL and
PARLEY_ORIGIN_SECRET read from Secrets Manager rather than from plain environment variables."""

from __future__ import annotations

import logging

import boto3

from parley.config import ConfigError, Settings, load_settings
from parley.logs import configure_logging

log = logging.getLogger(__name__)


def read_secret(arn: str, region: str, setting: str) -> str:
    """The string value of one Secrets Manager secret (boto3, the Lambda role's credentials)."""
    client = boto3.client("secretsmanager", region_name=region)
    try:
        value = client.get_secret_value(SecretId=arn).get("SecretString")
    finally:
        client.close()
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{setting}: the secret {arn} holds no string")
    return value.strip()


def cold_start_settings() -> Settings:
    """Configure logging first (so a bad setting is itself a JSON line), then the settings."""
    configure_logging("json")
    settings = load_settings()
    overrides: dict[str, str] = {}
    if settings.redis_url is None and settings.redis_url_secret_arn is not None:
        overrides["redis_url"] = read_secret(
            settings.redis_url_secret_arn, settings.aws_region, "PARLEY_REDIS_URL_SECRET_ARN"
        )
    if settings.origin_secret is None and settings.origin_secret_arn is not None:
        overrides["origin_secret"] = read_secret(
            settings.origin_secret_arn, settings.aws_region, "PARLEY_ORIGIN_SECRET_ARN"
        )
    if overrides:
        # Through load_settings again, so the secrets' values get the same validation.
        settings = load_settings(**overrides)
    # The log format is "json" on Lambda whatever PARLEY_LOG_FORMAT says: CloudWatch reads lines.
    log.info("lambda cold start: read from Secrets Manager: %s", ", ".join(overrides) or "nothing")
    return settings
