"""One JSON object per line for `wrangler tail` and Workers Logs.

Every line has `event` and `level`; request lines add request_id, user_id,
route, method, status, latency_ms, tokens_est and ip_hash. Callers pass only
those safe fields: never credentials, OAuth tokens, raw IPs or bodies.
Errors go to stderr (console.error), the rest to stdout (console.log).
"""

from __future__ import annotations

import json
import sys
import traceback


def emit(level: str, event: str, **fields: object) -> None:
    """Write one log line."""
    line = json.dumps({"event": event, "level": level, **fields}, default=str)
    print(line, file=sys.stderr if level == "error" else sys.stdout)


def stack_of(exc: BaseException) -> list[str]:
    """Return an exception's class and frames, without its message.

    Exception texts can quote URLs, headers or bodies; frames cannot.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames]
    return [type(exc).__name__, *where]
