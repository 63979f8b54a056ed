"""Answers that need no binding: /health, unknown routes, the last-resort 500."""

from __future__ import annotations

import json

from gateway.errors import InternalError, NotFound
from gateway.events import emit, stack_of
from gateway.identity import request_id_from
from gateway.runtime import error_response, json_response

HEALTH_BODY = json.dumps({"status": "ok", "gateway": "organized-gateway"})


def health(request) -> object:
    """Answer the liveness probe; touches no KV, D1, setting or upstream."""
    request_id = request_id_from(request.headers.get("x-request-id"))
    headers = {"Cache-Control": "no-store", "X-Request-Id": request_id}
    return json_response(HEALTH_BODY, 200, headers)


def not_found(request, path: str) -> object:
    """Answer 404 in the OpenAI shape."""
    request_id = request_id_from(request.headers.get("x-request-id"))
    error = NotFound(
        f"No route for {request.method} {path[:200]}.", code="unknown_route"
    )
    return error_response(error, {"X-Request-Id": request_id})


def unexpected_error(request, exc: BaseException) -> object:
    """Log an exception no route handled and answer a generic 500."""
    request_id = request_id_from(request.headers.get("x-request-id"))
    emit("error", "unexpected_error", request_id=request_id, stack=stack_of(exc))
    error = InternalError(f"Internal error; request id {request_id}.")
    return error_response(error, {"X-Request-Id": request_id})
