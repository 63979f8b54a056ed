"""Per-user, per-minute rate limiting: counted in the isolate, carried in KV.

The counter for a user and minute lives in KV at `rate:{user_id}:{minute}`
(minute = unix seconds // 60, TTL `RATE_LIMIT_TTL_SECONDS`). A request is
allowed while the count is under the cap, and then counts; a refused request
does not count.

Why not read-then-write KV per request: concurrent requests all read the same
count before any write lands, so a burst goes through uncounted. Instead each
isolate keeps a `Window` per key. The first requests for a key read KV (each
of those arriving together reads once, since an awaitable shared between
requests would resume one request inside another's I/O context); every later
decision and increment happens in the isolate, where one event loop makes
"check and increment" atomic. Increments reach KV at most once per second per
key (production KV's write rate), each flush re-reading KV and adding the
isolate's unwritten increments to what other isolates wrote.

One background task per key writes at a time (it stops after
`FLUSH_ROUNDS_MAX` rounds, well inside waitUntil's limit, and a later request
starts the next); a failed KV read or write leaves the increments for the
next flush rather than writing a count that could be too low.

Limits: across isolates and locations the cap is soft. KV is eventually
consistent (a write can take up to 60 s to be seen elsewhere) and two
isolates flushing the same key at once can overwrite each other's share.
Increments made during a flusher's last round reach KV only when the user
makes another request that minute. Within one isolate the cap is exact. A
failing KV read or write never fails a request: the limiter fails open and
logs a warning.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from gateway.events import emit

FLUSH_INTERVAL_S = 1.0
# One background task flushes a key for at most this many rounds (about as
# many seconds), well inside waitUntil's limit; then a later request takes over.
FLUSH_ROUNDS_MAX = 10
# A flush task not heard from for this long, with no write in flight, is
# presumed gone (its request torn down) and another takes its place.
FLUSH_STALE_S = 3 * FLUSH_INTERVAL_S


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        """Return the X-RateLimit-* headers (Reset in seconds from now)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }


@dataclass
class Window:
    key: str
    minute: int
    stored: int = 0
    pending: int = 0
    in_flight: int = 0
    last_flush: float = -math.inf
    loaded: bool = False
    flusher: object | None = None
    flusher_seen: float = -math.inf

    @property
    def count(self) -> int:
        return self.stored + self.pending + self.in_flight


def seconds_to_next_minute(now: float) -> int:
    """Return whole seconds (at least 1) until the next minute starts."""
    return max(1, math.ceil(60 - (now % 60)))


def window_key(user_id: str, minute: int) -> str:
    """Return the KV key of a user's counter for a minute."""
    return f"rate:{user_id}:{minute}"


def parse_count(value: object) -> int:
    """Return a stored counter as an int; anything unreadable is 0."""
    try:
        return max(0, int(str(value)))
    except (TypeError, ValueError):
        return 0


class RateLimiter:
    """The isolate's counters; one instance per isolate."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.windows: dict[str, Window] = {}

    async def check(
        self, kv, user_id: str, cap: int, ttl_s: int, background
    ) -> Decision:
        """Count a request against the user's cap and decide whether it may pass.

        `background` takes a coroutine to run after the answer (waitUntil).
        """
        now = self.clock()
        window = self._window(user_id, int(now // 60))
        if not window.loaded:
            stored = await read_count(kv, window.key)
            window.stored = max(window.stored, stored)
            window.loaded = True

        reset_s = seconds_to_next_minute(now)
        if window.count >= cap:
            return Decision(False, cap, 0, reset_s)
        window.pending += 1
        remaining = cap - window.count
        if needs_flusher(window, now):
            window.flusher, window.flusher_seen = object(), now
            background(self._flush_soon(kv, window, ttl_s, window.flusher))
        return Decision(True, cap, remaining, reset_s)

    def _window(self, user_id: str, minute: int) -> Window:
        key = window_key(user_id, minute)
        window = self.windows.get(key)
        if window is None:
            self._forget_before(minute - 1)
            window = self.windows[key] = Window(key, minute)
        return window

    def _forget_before(self, minute: int) -> None:
        stale = [key for key, w in self.windows.items() if w.minute < minute]
        for key in stale:
            del self.windows[key]

    async def _flush_soon(self, kv, window: Window, ttl_s: int, me: object) -> None:
        """Write the window's unwritten increments, no sooner than allowed.

        `me` marks this task as the window's flusher; a task that has been
        replaced stops at its next turn, so two never write one key at once.
        """
        try:
            for _ in range(FLUSH_ROUNDS_MAX):
                wait = window.last_flush + FLUSH_INTERVAL_S - self.clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                if window.flusher is not me:
                    return
                window.last_flush = window.flusher_seen = self.clock()
                written = await flush(kv, window, ttl_s)
                if not written or window.pending == 0:
                    return
        finally:
            if window.flusher is me:
                window.flusher = None


LIMITER = RateLimiter()


async def check_rate_limit(kv, user_id: str, cap: int, ttl_s: int, background):
    """Count a request against the user's cap with the isolate's limiter."""
    return await LIMITER.check(kv, user_id, cap, ttl_s, background)


def needs_flusher(window: Window, now: float) -> bool:
    """Tell whether a new flush task must be started for the window."""
    if window.flusher is None:
        return True
    silent = now - window.flusher_seen > FLUSH_STALE_S
    return silent and window.in_flight == 0


async def read_count(kv, key: str) -> int:
    """Read a counter from KV; on failure warn and count from 0."""
    try:
        return parse_count(await kv.get(key))
    except Exception as exc:
        emit("warning", "rate_limit_kv_read_failed", key=key, error=type(exc).__name__)
        return 0


async def flush(kv, window: Window, ttl_s: int) -> bool:
    """Add the window's unwritten increments to the count in KV.

    Return False when KV failed; the increments stay unwritten for the next
    request's flush.
    """
    taken, window.pending = window.pending, 0
    window.in_flight += taken
    try:
        # A failed read must not count as 0 here: writing would lower the
        # count other isolates put in KV.
        seen = parse_count(await kv.get(window.key))
        total = max(window.stored, seen) + taken
        await kv.put(window.key, str(total), expirationTtl=ttl_s)
    except Exception as exc:
        emit(
            "warning",
            "rate_limit_kv_write_failed",
            key=window.key,
            error=type(exc).__name__,
        )
        window.pending += taken
        return False
    finally:
        window.in_flight -= taken
    window.stored = max(window.stored, total)
    return True
