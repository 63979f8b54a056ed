"""Settings parsing: defaults, validation, and errors that name the setting."""

from __future__ import annotations

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigurationError

GOOD = {"OPENCLAW_URL": "https://bridge.example/openclaw/", "AUTH_MODE": "openai"}


def test_defaults_are_the_documented_values():
    config = parse_config(GOOD)

    assert config.upstream_base == "https://bridge.example/openclaw"
    assert config.auth_mode == "openai"
    assert config.rate_limit_per_minute == 50
    assert config.rate_limit_ttl_seconds == 120
    assert config.upstream_timeout_ms == 120_000


def test_auth_mode_is_case_insensitive():
    assert parse_config({**GOOD, "AUTH_MODE": " Codex "}).auth_mode == "codex"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"OPENCLAW_URL": None}, "OPENCLAW_URL"),
        ({"OPENCLAW_URL": "  "}, "OPENCLAW_URL"),
        ({"OPENCLAW_URL": "ftp://bridge.example"}, "OPENCLAW_URL"),
        ({"OPENCLAW_URL": "bridge.example"}, "OPENCLAW_URL"),
        ({"OPENCLAW_URL": "https://bridge.example/?token=s3cret"}, "OPENCLAW_URL"),
        ({"OPENCLAW_URL": "https://bridge.example:99999"}, "OPENCLAW_URL"),
        ({"AUTH_MODE": None}, "AUTH_MODE"),
        ({"AUTH_MODE": "oauth"}, "AUTH_MODE"),
        ({"RATE_LIMIT_PER_MINUTE": "fifty"}, "RATE_LIMIT_PER_MINUTE"),
        ({"RATE_LIMIT_PER_MINUTE": "0"}, "RATE_LIMIT_PER_MINUTE"),
        ({"RATE_LIMIT_TTL_SECONDS": "30"}, "RATE_LIMIT_TTL_SECONDS"),
        ({"UPSTREAM_TIMEOUT_MS": "-1"}, "UPSTREAM_TIMEOUT_MS"),
    ],
)
def test_bad_settings_raise_a_configuration_error_naming_them(changes, named):
    with pytest.raises(ConfigurationError) as caught:
        parse_config({**GOOD, **changes})

    assert named in caught.value.message
    assert caught.value.status == 500
    secret = changes.get("OPENCLAW_URL") or changes.get("AUTH_MODE")
    if secret and secret.strip():
        assert secret not in caught.value.message
