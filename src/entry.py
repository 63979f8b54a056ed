"""organized-gateway's Worker entry: the route table.

GET  /health  -> liveness, no bindings touched     (gateway.routes)
ANY  /v1/*    -> the OpenAI-compatible proxy        (gateway.proxy)
*             -> 404 in the OpenAI error shape      (gateway.routes)

Whatever escapes a route answers a generic 500 in the OpenAI shape.
"""

from urllib.parse import urlsplit

from gateway import proxy, routes


async def on_fetch(request, env, ctx):
    try:
        return await route(request, env, ctx)
    except Exception as exc:
        return routes.unexpected_error(request, exc)


async def route(request, env, ctx):
    path = urlsplit(str(request.url)).path
    method = str(request.method)

    if path == "/health" and method in ("GET", "HEAD"):
        return routes.health(request)
    if path.startswith("/v1/"):
        return await proxy.handle(request, env, ctx)
    return routes.not_found(request, path)
