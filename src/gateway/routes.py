"""Answers that need no binding: /health and unknown routes."""

from __future__ import annotations

import json

from gateway.errors import NotFound
from gateway.identity import request_id_from
from gateway.runtime import error_response, json_response

HEALTH_BODY = json.dumps({"status": "ok", "gateway": "organized-gateway"})


def health() -> object:
    """Answer the liveness probe; touches no KV, D1 or upstream."""
    return json_response(HEALTH_BODY, 200, {"Cache-Control": "no-store"})


def not_found(request, path: str) -> object:
    """Answer 404 in the OpenAI shape."""
    request_id = request_id_from(request.headers.get("x-request-id"))
    error = NotFound(
        f"No route for {request.method} {path[:200]}.", code="unknown_route"
    )
    return error_response(error, {"X-Request-Id": request_id})
