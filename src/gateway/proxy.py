"""The `/v1/*` proxy: identify, authorise, limit, forward, relay, record.

A request goes through these steps in order; any step may refuse it with a
`GatewayError`, which is answered in the OpenAI shape and recorded like any
other outcome, so every proxied request leaves exactly one log row.

1. settings, `X-User-ID`, path and method/body are checked
   (400 / 500 configuration_error);
2. in codex mode the gateway key is checked and the OAuth token read (401),
   before counting, so nobody can spend another user's cap by naming them;
3. the user's per-minute cap is counted (429);
4. the request goes to OPENCLAW_URL + path + query with its body streamed
   verbatim (502 unreachable, 504 no response headers in time);
5. the upstream's status, headers and body stream back unchanged, plus the
   gateway's headers, while a copy of the body is scanned for usage;
6. the outcome is written to D1 and to the tail log in the background.

Headers not forwarded upstream: hop-by-hop headers, `Host`, `Content-Length`
(the runtime sets it from the body), Cloudflare's `CF-*` and client-address
headers, and `X-Codex-Token` from the client; in codex mode also the
client's `Authorization`, which carries the gateway key.

Limits: the copy of the body for usage scanning is a `tee`, so when a client
reads more slowly than the upstream sends, the unread part waits in memory.
A client that disconnects before the upstream's headers arrive may, on the
edge, cancel the request before its row is scheduled.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from js import AbortController, Headers, Response, fetch
from pyodide.ffi import JsException

from gateway import auth, identity, requestlog, usage
from gateway.config import parse_config
from gateway.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.events import emit, stack_of
from gateway.ratelimit import check_rate_limit
from gateway.runtime import (
    d1_writer,
    error_response,
    in_background,
    read_settings,
    set_headers,
)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {
    "host",
    "content-length",
    "x-codex-token",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
    "true-client-ip",
    "forwarded",
}
NULL_BODY_STATUSES = frozenset({101, 204, 205, 304})


async def handle(request, env, ctx) -> object:
    """Proxy one `/v1/*` request and return the JS Response."""
    record = start_record(request)
    gateway_headers = {"X-Request-Id": record.request_id}
    try:
        config = parse_config(read_settings(env))
        record.user_id = identity.parse_user_id(request.headers.get("x-user-id"))
        path = identity.upstream_path(record.route)
        check_body_allowed(request)

        token = await codex_token(request, env, config, record)

        await enforce_rate_limit(env, ctx, config, record.user_id, gateway_headers)

        headers = forward_headers(request, record.request_id, token)
        url = config.upstream_base + path + query_of(request.url)
        upstream = await send_upstream(request, url, headers, config, record)
        return relay(ctx, env, record, upstream, gateway_headers)
    except GatewayError as error:
        return refuse(ctx, env, record, error, gateway_headers)
    except Exception as exc:
        emit(
            "error",
            "unexpected_error",
            request_id=record.request_id,
            stack=stack_of(exc),
        )
        error = InternalError(f"Internal error; request id {record.request_id}.")
        return refuse(ctx, env, record, error, gateway_headers)


def start_record(request) -> requestlog.Record:
    """Begin the request's record from what the request itself says."""
    return requestlog.Record(
        request_id=identity.request_id_from(request.headers.get("x-request-id")),
        method=str(request.method),
        route=urlsplit(str(request.url)).path,
        ip_hash=identity.hash_ip(request.headers.get("cf-connecting-ip")),
        started_ms=requestlog.now_ms(),
    )


def check_body_allowed(request) -> None:
    """Refuse a GET or HEAD with a body: it cannot be forwarded as it is."""
    method = str(request.method)
    if method in ("GET", "HEAD") and request.body is not None:
        raise InvalidRequest(
            f"A {method} request cannot carry a body.", code="body_not_allowed"
        )


async def codex_token(request, env, config, record) -> str | None:
    """Return the OAuth token to send upstream in codex mode, else None."""
    if config.auth_mode != "codex":
        return None
    authorization = request.headers.get("authorization")
    return await auth.codex_token(
        env.GATEWAY_KV, record.user_id, authorization, record.request_id
    )


async def enforce_rate_limit(env, ctx, config, user_id: str, gateway_headers) -> None:
    """Count the request; add the rate headers; refuse past the cap."""
    decision = await check_rate_limit(
        env.GATEWAY_KV,
        user_id,
        config.rate_limit_per_minute,
        config.rate_limit_ttl_seconds,
        lambda coroutine: in_background(ctx, coroutine),
    )
    gateway_headers.update(decision.headers())
    if not decision.allowed:
        raise RateLimited(
            f"Rate limit of {decision.limit} requests per minute reached; "
            f"retry in {decision.reset_s} s.",
            headers={"Retry-After": str(decision.reset_s)},
        )


def query_of(url: str) -> str:
    """Return the URL's query string with its `?`, or ''."""
    query = urlsplit(url).query
    return "?" + query if query else ""


def forward_headers(request, request_id: str, oauth_token: str | None) -> object:
    """Return the JS Headers to send upstream."""
    headers = Headers.new()
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in NOT_FORWARDED or lowered.startswith("cf-"):
            continue
        if oauth_token is not None and lowered == "authorization":
            continue
        headers.append(name, value)
    headers.set("X-Request-Id", request_id)
    if oauth_token is not None:
        headers.set("X-Codex-Token", oauth_token)
    return headers


async def send_upstream(request, url: str, headers, config, record) -> object:
    """Send the request upstream and return its response once headers arrive."""
    timeout_ms = config.upstream_timeout_ms
    controller = AbortController.new()
    pending = fetch(
        url,
        method=record.method,
        headers=headers,
        body=request.body,
        redirect="manual",
        signal=controller.signal,
    )
    try:
        return await asyncio.wait_for(asyncio.ensure_future(pending), timeout_ms / 1000)
    except TimeoutError as exc:
        controller.abort()
        raise UpstreamTimeout(
            f"The upstream sent no response within {timeout_ms} ms."
        ) from exc
    except JsException as exc:
        emit(
            "warning",
            "upstream_unreachable",
            request_id=record.request_id,
            error=type(exc).__name__,
        )
        raise UpstreamUnreachable("The upstream could not be reached.") from exc


def refuse(ctx, env, record, error: GatewayError, gateway_headers) -> object:
    """Answer a gateway error and record it."""
    record.answered(error.status)
    response = error_response(error, gateway_headers)
    in_background(ctx, requestlog.log_request(record, d1_writer(env)))
    return response


def relay(ctx, env, record, upstream, gateway_headers) -> object:
    """Stream the upstream's answer back and record it once read through.

    Nothing is scheduled until the response is built, so a failure here is
    answered and recorded once, by `refuse`.
    """
    status = int(upstream.status)
    body = None if status in NULL_BODY_STATUSES else upstream.body
    kind = usage.scan_kind(upstream.headers.get("content-type"))
    copy = None
    if body is not None and kind is not None:
        body, copy = body.tee()
    response = Response.new(body, upstream)
    set_headers(response, gateway_headers)

    record.answered(status)
    if copy is None:
        in_background(ctx, requestlog.log_request(record, d1_writer(env)))
    else:
        in_background(ctx, scan_then_log(env, record, copy, kind))
    return response


async def scan_then_log(env, record, stream, kind: str) -> None:
    """Read the body copy for usage, then log the record, whatever happens."""
    scanner = usage.UsageScanner(kind)
    try:
        await scan(stream, scanner)
        record.tokens_est = scanner.finish()
    except Exception:
        emit("warning", "upstream_body_failed", request_id=record.request_id)
        record.tokens_est = scanner.tokens
    await requestlog.log_request(record, d1_writer(env))


async def scan(stream, scanner: usage.UsageScanner) -> None:
    """Feed the stream to the scanner until it ends or the scanner is done."""
    reader = stream.getReader()
    while not scanner.done:
        chunk = await reader.read()
        if chunk.done:
            return
        scanner.feed(chunk.value.to_bytes())
    try:
        await reader.cancel()
    except JsException:
        pass
