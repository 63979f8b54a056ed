"""The request log: one `requests` row and one tail line per proxied request.

`Record` is filled in as a request goes through the proxy and logged once,
in the background, when its outcome is known: for a relayed body that is when
the body has been read through (so `tokens_est` is known), otherwise when the
gateway answers. Its tail line is printed then.

Rows reach D1 in batches. Each record waits `BATCH_DELAY_S` in the pending
list in its own request's background task; the first task to wake whose
record is still pending takes the whole list (one swap) and writes it as one
D1 batch (bound parameters only). So every record belongs to exactly one
batch, its own task guarantees that a batch takes it, and no request waits on
another request's I/O. A D1 failure logs a warning and is otherwise ignored:
the log never breaks or delays an answer.

Limits: a batch that fails loses all its rows (a D1 batch is one
transaction); the warning says how many.

`latency_ms` is the time from the gateway receiving the request to the moment
it had the upstream's response headers, or made its own answer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from gateway.events import emit

INSERT_SQL = (
    "INSERT INTO requests"
    " (user_id, endpoint, status, latency_ms, tokens_est, ip_hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
)
BATCH_DELAY_S = 0.05
BATCH_MAX = 100
# Paths are kept up to this length in rows and log lines; longer ones are
# never valid routes and only bloat the log.
ROUTE_MAX = 512


def now_ms() -> float:
    """Return wall-clock milliseconds (Workers advance time on I/O only)."""
    return time.time() * 1000.0


@dataclass
class Record:
    request_id: str
    method: str
    route: str
    ip_hash: str
    started_ms: float
    user_id: str = ""
    status: int = 0
    latency_ms: int = 0
    tokens_est: int = 0
    batched: bool = False

    def answered(self, status: int) -> None:
        """Note the status and the latency at the moment of answering."""
        self.status = status
        self.latency_ms = max(0, round(now_ms() - self.started_ms))

    def fields(self) -> dict:
        """Return the fields of the tail line."""
        return {
            "request_id": self.request_id,
            "user_id": self.user_id,
            "route": self.route[:ROUTE_MAX],
            "method": self.method,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "tokens_est": self.tokens_est,
            "ip_hash": self.ip_hash,
        }

    def row(self) -> tuple:
        """Return the values bound to INSERT_SQL."""
        return (
            self.user_id,
            self.route[:ROUTE_MAX],
            self.status,
            self.latency_ms,
            self.tokens_est,
            self.ip_hash,
        )


class RequestLog:
    """The isolate's pending records, written to D1 in batches."""

    def __init__(self, delay_s: float = BATCH_DELAY_S):
        self.delay_s = delay_s
        self.pending: list[Record] = []

    async def add(self, record: Record, write_rows) -> None:
        """Print the record's tail line and see its row written.

        `write_rows(sql, rows)` runs one D1 batch; it is used only when this
        call's record is still pending when it wakes.
        """
        level = "info" if record.status < 400 else "warning"
        emit(level, "request", **record.fields())
        self.pending.append(record)
        await asyncio.sleep(self.delay_s)
        if record.batched:
            return
        batch, self.pending = self.pending, []
        for taken in batch:
            taken.batched = True
        for start in range(0, len(batch), BATCH_MAX):
            await write_batch(batch[start : start + BATCH_MAX], write_rows)


REQUEST_LOG = RequestLog()


async def log_request(record: Record, write_rows) -> None:
    """Log a finished request: its tail line now, its D1 row in a batch."""
    await REQUEST_LOG.add(record, write_rows)


async def write_batch(records: list[Record], write_rows) -> None:
    """Write records in one D1 batch; on failure warn, never raise."""
    try:
        await write_rows(INSERT_SQL, [record.row() for record in records])
    except Exception as exc:
        emit(
            "warning",
            "request_log_failed",
            rows=len(records),
            request_ids=[record.request_id for record in records[:5]],
            error=d1_error_text(exc),
        )


def d1_error_text(exc: BaseException) -> str:
    """Return D1's own error text, cut before any quoted bound value."""
    text = str(exc)
    start = text.find("D1_")
    if start < 0:
        return type(exc).__name__
    text = text[start : start + 200]
    return text.split(" for value", 1)[0]
