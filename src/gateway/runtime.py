"""The JavaScript boundary: responses, headers, settings and background tasks.

Everything that builds JS objects or hands Python work to the Workers runtime
lives here, so the other modules stay plain Python.

Pitfalls handled here: Python dicts do not cross as JS objects (headers are
built as `Headers`, and options passed as keyword arguments), and
`ctx.waitUntil` needs a scheduled task behind a proxy, not a bare coroutine.
"""

from __future__ import annotations

import asyncio

from js import Headers, Response
from pyodide.ffi import create_proxy, to_js

from gateway.config import SETTING_NAMES
from gateway.errors import GatewayError, error_body
from gateway.events import emit, stack_of

JSON_TYPE = "application/json"


def json_response(body: str, status: int, headers: dict[str, str]) -> object:
    """Return a JS Response with a JSON body."""
    js_headers = Headers.new()
    js_headers.set("Content-Type", JSON_TYPE)
    for name, value in headers.items():
        js_headers.set(name, value)
    return Response.new(body, status=status, headers=js_headers)


def error_response(error: GatewayError, headers: dict[str, str]) -> object:
    """Return the OpenAI-shaped JS Response for a gateway error."""
    return json_response(error_body(error), error.status, {**headers, **error.headers})


def set_headers(response: object, headers: dict[str, str]) -> None:
    """Set headers on a JS Response (or Headers) in place."""
    target = getattr(response, "headers", response)
    for name, value in headers.items():
        target.set(name, value)


def read_settings(env: object) -> dict[str, str | None]:
    """Return the gateway's settings from the Worker env as plain strings."""
    settings = {}
    for name in SETTING_NAMES:
        value = getattr(env, name, None)
        settings[name] = None if value is None else str(value)
    return settings


async def d1_batch(db: object, sql: str, rows: list[tuple]) -> None:
    """Run one statement for each row of bound values, as one D1 batch."""
    statement = db.prepare(sql)
    await db.batch(to_js([statement.bind(*row) for row in rows]))


def d1_writer(env: object):
    """Return the request log's batch writer for the env's `DB` binding."""
    return lambda sql, rows: d1_batch(env.DB, sql, rows)


def in_background(ctx: object, coroutine) -> None:
    """Run a coroutine after the answer, kept alive by `ctx.waitUntil`."""
    task = asyncio.ensure_future(_guarded(coroutine))
    proxy = create_proxy(task)
    ctx.waitUntil(proxy)
    task.add_done_callback(lambda _task: proxy.destroy())


async def _guarded(coroutine) -> None:
    try:
        await coroutine
    except Exception as exc:
        emit("error", "background_task_failed", stack=stack_of(exc))
