"""The gateway's settings, read from the Worker's vars and secrets.

Settings are read per request from plain strings, so a bad value answers a
500 `configuration_error` naming the setting instead of crashing the isolate.
`/health` reads none of them.

Settings (all strings in the environment):
- OPENCLAW_URL (secret): upstream base URL, http(s), no query or fragment.
- AUTH_MODE (secret): `openai` or `codex`.
- RATE_LIMIT_PER_MINUTE: requests a user may make per minute (default 50).
- RATE_LIMIT_TTL_SECONDS: lifetime of a KV counter, >= 60 (default 120).
- UPSTREAM_TIMEOUT_MS: how long to wait for the upstream's response headers
  (default 120000).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.errors import ConfigurationError

AUTH_MODES = ("openai", "codex")
SETTING_NAMES = (
    "OPENCLAW_URL",
    "AUTH_MODE",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_TTL_SECONDS",
    "UPSTREAM_TIMEOUT_MS",
)
DEFAULTS = {
    "RATE_LIMIT_PER_MINUTE": "50",
    "RATE_LIMIT_TTL_SECONDS": "120",
    "UPSTREAM_TIMEOUT_MS": "120000",
}


@dataclass(frozen=True)
class Config:
    upstream_base: str
    auth_mode: str
    rate_limit_per_minute: int
    rate_limit_ttl_seconds: int
    upstream_timeout_ms: int


def parse_config(raw: dict[str, str | None]) -> Config:
    """Validate the raw settings and return them typed.

    Raises ConfigurationError naming the first bad setting; its message never
    contains the setting's value, which may be a secret.
    """
    return Config(
        upstream_base=_upstream_base(raw.get("OPENCLAW_URL")),
        auth_mode=_auth_mode(raw.get("AUTH_MODE")),
        rate_limit_per_minute=_integer(raw, "RATE_LIMIT_PER_MINUTE", 1, 1_000_000),
        rate_limit_ttl_seconds=_integer(raw, "RATE_LIMIT_TTL_SECONDS", 60, 86_400),
        upstream_timeout_ms=_integer(raw, "UPSTREAM_TIMEOUT_MS", 100, 3_600_000),
    )


def _upstream_base(value: str | None) -> str:
    if not value or not value.strip():
        raise ConfigurationError("OPENCLAW_URL is not set.")
    try:
        parts = urlsplit(value.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = None
    if (
        parts is None
        or not port_ok
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ConfigurationError(
            "OPENCLAW_URL is not a valid http(s) URL without query or fragment."
        )
    return value.strip().rstrip("/")


def _auth_mode(value: str | None) -> str:
    mode = (value or "").strip().lower()
    if mode not in AUTH_MODES:
        raise ConfigurationError("AUTH_MODE must be 'openai' or 'codex'.")
    return mode


def _integer(raw: dict[str, str | None], name: str, low: int, high: int) -> int:
    value = raw.get(name)
    text = DEFAULTS[name] if value is None or value == "" else str(value).strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ConfigurationError(f"{name} must be a whole number from {low} to {high}.")
    return number
