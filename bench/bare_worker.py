"""The floor for the benchmark: a Python Worker that only forwards.

It sends each request to OPENCLAW_URL + path + query with the same method,
headers and body, and streams the upstream's answer back unchanged. No
bindings, no checks, no logging: whatever the gateway costs above this is the
gateway's own work.
"""

from urllib.parse import urlsplit

from js import Response, fetch


async def on_fetch(request, env, ctx):
    parts = urlsplit(str(request.url))
    url = str(env.OPENCLAW_URL).rstrip("/") + parts.path
    if parts.query:
        url += "?" + parts.query
    upstream = await fetch(
        url,
        method=request.method,
        headers=request.headers,
        body=request.body,
        redirect="manual",
    )
    return Response.new(upstream.body, upstream)
