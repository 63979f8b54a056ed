"""Run the real worker in the pinned workerd (through `wrangler dev`).

Each `Worker` gets its own free port, its own persistence directory (fresh
local KV and D1), the migrations applied unless told otherwise, and its
settings as `--var`s. It waits for `/health`, puts the worker's log in the
failure message when start-up fails, and always stops the process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"
DB_NAME = "organized-gateway-db"
START_TIMEOUT_S = 90


def wait_for_room_in_this_minute(seconds_needed: float) -> int:
    """Sleep into the next minute if this one ends too soon; return the minute.

    Rate-limit windows are calendar minutes: a test that must stay inside one
    waits here first.
    """
    left = 60 - time.time() % 60
    if left < seconds_needed:
        time.sleep(left + 0.2)
    return int(time.time() // 60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrangler(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the pinned wrangler in the project root and return the result."""
    env = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"}
    result = subprocess.run(
        [str(WRANGLER), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"wrangler {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


class Worker:
    def __init__(self, state_dir: Path, settings: dict[str, str], migrate=True):
        self.state_dir = state_dir
        self.settings = settings
        self.migrate = migrate
        self.port = free_port()
        self.log_path = state_dir / "worker.log"
        self.process: subprocess.Popen | None = None
        self.log_file = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 2) -> Worker:
        """Start the worker with its migrations applied.

        A start that fails (a port taken meanwhile, say) is retried once on
        fresh ports before the failure is reported.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            try:
                if self.migrate:
                    wrangler(
                        "d1", "migrations", "apply", DB_NAME, "--local",
                        "--persist-to", str(self.state_dir),
                    )  # fmt: skip
                self._launch()
                return self
            except RuntimeError:
                if attempt == attempts:
                    raise
                self.port = free_port()
        return self

    def _launch(self) -> None:
        args = [
            str(WRANGLER), "dev", "--ip", "127.0.0.1",
            "--port", str(self.port), "--inspector-port", str(free_port()),
            "--persist-to", str(self.state_dir),
            "--show-interactive-dev-session=false",
            "--var", *(f"{name}:{value}" for name, value in self.settings.items()),
        ]  # fmt: skip
        env = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"}
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        log = self.log()
        self.stop()
        raise RuntimeError(f"worker did not become ready; its log:\n{log}")

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def log_events(self) -> list[dict]:
        """Return the JSON log lines the worker printed."""
        events = []
        for line in self.log().splitlines():
            start = line.find('{"event"')
            if start >= 0:
                try:
                    events.append(json.loads(line[start:]))
                except ValueError:
                    pass
        return events

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                    self.process.wait(10)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.log_file is not None and not self.log_file.closed:
            self.log_file.close()

    # Local D1, read from its SQLite file: the same rows the worker wrote.
    def d1_path(self) -> Path:
        files = list((self.state_dir / "v3" / "d1").rglob("*.sqlite"))
        if len(files) != 1:
            raise RuntimeError(f"expected one local D1 file, found {files}")
        return files[0]

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        with sqlite3.connect(f"file:{self.d1_path()}?mode=ro", uri=True) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params)]

    def wait_rows(self, where: str, params: tuple, expect: int, timeout_s=15.0):
        """Wait for `expect` log rows matching `where`; writes run in the background.

        Waits a little longer once they are there, so that a wrong extra row
        would show up too.
        """
        sql = f"SELECT * FROM requests WHERE {where} ORDER BY id"
        deadline = time.monotonic() + timeout_s
        rows = self.query(sql, params)
        while len(rows) < expect and time.monotonic() < deadline:
            time.sleep(0.1)
            rows = self.query(sql, params)
        time.sleep(0.5)
        return self.query(sql, params)

    def rows_for(self, user_id: str, expect: int = 1) -> list[dict]:
        """Wait for a user's log rows."""
        return self.wait_rows("user_id = ?", (user_id,), expect)

    def kv_put(self, key: str, value: str) -> None:
        """Write a key into the worker's local GATEWAY_KV."""
        wrangler(
            "kv", "key", "put", "--binding", "GATEWAY_KV", key, value,
            "--local", "--persist-to", str(self.state_dir),
        )  # fmt: skip
