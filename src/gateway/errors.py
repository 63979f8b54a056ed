"""The gateway's own errors, and the one place that renders them.

Every response the gateway makes itself (rather than relaying the upstream's)
is a `GatewayError` rendered in the OpenAI error shape, so OpenAI SDKs raise
the matching exception:

    GatewayError(status, type, code, message)
    ├── InvalidRequest      400 invalid_request_error   -> BadRequestError
    ├── Unauthenticated     401 authentication_error    -> AuthenticationError
    ├── NotFound            404 invalid_request_error   -> NotFoundError
    ├── RateLimited         429 rate_limit_exceeded     -> RateLimitError
    ├── ConfigurationError  500 configuration_error     -> InternalServerError
    ├── InternalError       500 api_error               -> InternalServerError
    ├── UpstreamUnreachable 502 upstream_error          -> InternalServerError
    └── UpstreamTimeout     504 upstream_timeout        -> InternalServerError

Messages are written by the gateway; they never carry exception text, secrets
or request bodies.
"""

from __future__ import annotations

import json


class GatewayError(Exception):
    """An error the gateway answers itself, with an HTTP status."""

    status = 500
    error_type = "api_error"
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, headers=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"
    code = "invalid_request"


class Unauthenticated(GatewayError):
    status = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class NotFound(GatewayError):
    status = 404
    error_type = "invalid_request_error"
    code = "not_found"


class RateLimited(GatewayError):
    status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"


class ConfigurationError(GatewayError):
    status = 500
    error_type = "configuration_error"
    code = "configuration_error"


class InternalError(GatewayError):
    status = 500
    error_type = "api_error"
    code = "internal_error"


class UpstreamUnreachable(GatewayError):
    status = 502
    error_type = "upstream_error"
    code = "upstream_unreachable"


class UpstreamTimeout(GatewayError):
    status = 504
    error_type = "upstream_error"
    code = "upstream_timeout"


def error_body(error: GatewayError) -> str:
    """Render an error as the OpenAI-style JSON body."""
    payload = {
        "error": {
            "message": error.message,
            "type": error.error_type,
            "param": None,
            "code": error.code,
        }
    }
    return json.dumps(payload, separators=(",", ":"))
