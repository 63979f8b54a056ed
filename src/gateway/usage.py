"""Estimate tokens from what the upstream sends back, without holding it up.

`tokens_est` is `usage.total_tokens` from a JSON answer, or from the last SSE
`data:` event that carries a `usage` object (OpenAI streams send it when the
request sets `stream_options.include_usage`). Anything missing or unparsable
counts as 0. The scanner is fed a copy of the body chunk by chunk; the client
receives the original and never waits for it.

Limits: a JSON answer is parsed only when it is at most `JSON_LIMIT` bytes,
and an SSE line only when it is at most `LINE_LIMIT` bytes; a larger JSON
answer counts 0 and a longer SSE line is skipped. The number is the
upstream's own claim, good for rough throughput figures, not for billing.
"""

from __future__ import annotations

import json

JSON_LIMIT = 4 * 1024 * 1024
LINE_LIMIT = 1024 * 1024
# Larger claims are not plausible token counts (and would not fit D1's
# integer binding); they count as unparsable.
TOKENS_MAX = 2**31 - 1


def scan_kind(content_type: str | None) -> str | None:
    """Return 'sse', 'json' or None (not worth scanning) for a content type."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "text/event-stream":
        return "sse"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    return None


def total_tokens(payload: object) -> int | None:
    """Return `usage.total_tokens` of a decoded JSON object, if present."""
    if not isinstance(payload, dict):
        return None
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    total = usage.get("total_tokens")
    if isinstance(total, bool) or not isinstance(total, int):
        return None
    return total if 0 <= total <= TOKENS_MAX else None


class UsageScanner:
    """Accumulate a response body and report its token estimate."""

    def __init__(self, kind: str):
        self.kind = kind
        self.tokens = 0
        self.done = False
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the body."""
        if self.done:
            return
        self._buffer += chunk
        if self.kind == "json":
            if len(self._buffer) > JSON_LIMIT:
                self._give_up()
            return
        self._scan_lines()

    def finish(self) -> int:
        """Take the end of the body and return the estimate."""
        if not self.done:
            if self.kind == "json":
                self._take(bytes(self._buffer))
            else:
                self._buffer += b"\n"
                self._scan_lines()
            self.done = True
            self._buffer = bytearray()
        return self.tokens

    def _scan_lines(self) -> None:
        end = self._buffer.rfind(b"\n")
        if end < 0:
            if len(self._buffer) > LINE_LIMIT:
                self._skipping = True
                self._buffer = bytearray()
            return
        if self._skipping:
            first = self._buffer.find(b"\n")
            del self._buffer[: first + 1]
            end -= first + 1
            self._skipping = False
        complete = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        for line in complete.split(b"\n"):
            if len(line) > LINE_LIMIT:
                continue
            if line.startswith(b"data:") and b'"usage"' in line:
                self._take(line[5:])

    def _take(self, data: bytes) -> None:
        try:
            found = total_tokens(json.loads(data))
        except (ValueError, RecursionError):
            return
        if found is not None:
            self.tokens = found

    def _give_up(self) -> None:
        self.done = True
        self._buffer = bytearray()
