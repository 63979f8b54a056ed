"""The request log: one `requests` row and one tail line per proxied request.

`Record` is filled in as a request goes through the proxy and written once,
in the background, when its outcome is known: for a relayed body that is when
the body has been read through (so `tokens_est` is known), otherwise when the
gateway answers. The INSERT uses bound parameters only. A D1 failure logs a
warning and is otherwise ignored: the log never breaks or delays an answer.

`latency_ms` is the time from the gateway receiving the request to the moment
it had the upstream's response headers, or made its own answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.events import emit

INSERT_SQL = (
    "INSERT INTO requests"
    " (user_id, endpoint, status, latency_ms, tokens_est, ip_hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
)


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

    def answered(self, status: int) -> None:
        """Note the status and the latency at the moment of answering."""
        self.status = status
        self.latency_ms = max(0, round(now_ms() - self.started_ms))

    def fields(self) -> dict:
        """Return the fields of the tail line."""
        return {
            "request_id": self.request_id,
            "user_id": self.user_id,
            "route": self.route,
            "method": self.method,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "tokens_est": self.tokens_est,
            "ip_hash": self.ip_hash,
        }


async def log_request(db, record: Record) -> None:
    """Insert the record into D1 and print its tail line; never raise."""
    level = "info" if record.status < 400 else "warning"
    emit(level, "request", **record.fields())
    try:
        statement = db.prepare(INSERT_SQL).bind(
            record.user_id,
            record.route,
            record.status,
            record.latency_ms,
            record.tokens_est,
            record.ip_hash,
        )
        await statement.run()
    except Exception as exc:
        emit(
            "warning",
            "request_log_failed",
            request_id=record.request_id,
            error=d1_error_text(exc),
        )


def d1_error_text(exc: BaseException) -> str:
    """Return D1's own error text (it quotes SQL, never bound values)."""
    text = str(exc)
    start = text.find("D1_")
    return text[start : start + 200] if start >= 0 else type(exc).__name__
