"""Who is asking, and for what: user id, request id, IP hash, upstream path.

Pure functions over header values and the request path; nothing here touches
a binding.

- `user_id` comes from `X-User-ID`: 1-128 characters from [A-Za-z0-9._@+-]
  (no `:`, which would forge KV keys such as `rate:{user_id}:{minute}`).
- `request_id` is a well-formed client `X-Request-Id` (1-128 characters from
  [A-Za-z0-9._:-]) or a new random one.
- `ip_hash` is the first 8 hex characters of SHA-256 of `CF-Connecting-IP`;
  the raw IP is never kept.
- The upstream path must stay under `/v1/`: dot segments, encoded dots,
  slashes, backslashes and percent signs (double encoding), backslashes and
  `;` (path parameters some servers strip) are refused rather than
  normalised.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from gateway.errors import InvalidRequest

USER_ID_MAX = 128
_USER_ID = re.compile(r"[A-Za-z0-9._@+\-]{1,128}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_PATH_TRICKS = re.compile(r"%2e|%2f|%5c|%25|\\|;", re.IGNORECASE)


def parse_user_id(value: str | None) -> str:
    """Return the validated user id from an `X-User-ID` value."""
    if value is None or value == "":
        raise InvalidRequest(
            "The X-User-ID header is required.", code="missing_user_id"
        )
    if len(value) > USER_ID_MAX:
        raise InvalidRequest(
            f"X-User-ID is longer than {USER_ID_MAX} characters.",
            code="invalid_user_id",
        )
    if not _USER_ID.fullmatch(value):
        raise InvalidRequest(
            "X-User-ID may only contain letters, digits and . _ @ + -",
            code="invalid_user_id",
        )
    return value


def request_id_from(value: str | None) -> str:
    """Return the client's request id when well-formed, else a new one."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return "req_" + uuid.uuid4().hex


def hash_ip(ip: str | None) -> str:
    """Return the first 8 hex characters of SHA-256 of the IP, or ''."""
    if not ip:
        return ""
    return hashlib.sha256(ip.encode()).hexdigest()[:8]


def upstream_path(path: str) -> str:
    """Return the request path when it is safe to append to the upstream URL."""
    if not path.startswith("/v1/") or _PATH_TRICKS.search(path):
        raise InvalidRequest("The request path is not allowed.", code="invalid_path")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise InvalidRequest("The request path is not allowed.", code="invalid_path")
    return path
