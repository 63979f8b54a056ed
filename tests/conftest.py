"""Fixtures: the fake upstream and the real worker in workerd, per configuration.

Workers start once per session, each with fresh local KV and D1. Tests keep
out of each other's way with a unique user id (and client IP) each.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from fake_upstream import FakeUpstream
from harness import Worker, free_port
from ops_helpers import REAL_D1_ID, REAL_KV_ID, StandIn, project_copy

TEST_TIMEOUT_MS = "1500"


@pytest.fixture(scope="session")
def upstream():
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


def closed_port_url() -> str:
    """Return a loopback URL on which nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def workers(upstream, tmp_path_factory):
    """Start every worker configuration the suite uses, side by side."""
    base = {"OPENCLAW_URL": upstream.url, "UPSTREAM_TIMEOUT_MS": TEST_TIMEOUT_MS}
    configs = {
        "openai": ({**base, "AUTH_MODE": "openai"}, True),
        "codex": ({**base, "AUTH_MODE": "codex"}, True),
        "unmigrated": ({**base, "AUTH_MODE": "openai"}, False),
        "misconfigured": ({**base, "AUTH_MODE": "sometimes"}, True),
        "unreachable": (
            {**base, "AUTH_MODE": "openai", "OPENCLAW_URL": closed_port_url()},
            True,
        ),
    }
    dirs = {name: tmp_path_factory.mktemp(name) for name in configs}
    started: dict[str, Worker] = {}

    def start(name: str) -> None:
        settings, migrate = configs[name]
        worker = Worker(dirs[name], settings, migrate=migrate)
        started[name] = worker.start()

    try:
        with ThreadPoolExecutor(max_workers=len(configs)) as pool:
            for future in [pool.submit(start, name) for name in configs]:
                future.result()
        yield started
    finally:
        for worker in started.values():
            worker.stop()


@pytest.fixture(scope="session")
def gateway(workers) -> Worker:
    """The worker in AUTH_MODE=openai with migrations applied."""
    return workers["openai"]


@pytest.fixture(scope="session")
def codex_gateway(workers) -> Worker:
    return workers["codex"]


@pytest.fixture
def client(gateway):
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        yield http


@pytest.fixture
def user_id() -> str:
    return "u-" + uuid.uuid4().hex[:16]


@pytest.fixture
def client_ip() -> str:
    """A client address unique to the test, for finding its log rows."""
    return "2001:db8::" + ":".join(uuid.uuid4().hex[i : i + 4] for i in (0, 4, 8))


@pytest.fixture
def stand_in(tmp_path: Path) -> StandIn:
    """A stand-in wrangler that replays real output formats and records calls."""
    return StandIn(tmp_path)


@pytest.fixture
def bootstrapped(tmp_path: Path) -> Path:
    """A copy of the project whose wrangler.toml holds real-looking ids."""
    return project_copy(tmp_path / "project", kv_id=REAL_KV_ID, d1_id=REAL_D1_ID)
