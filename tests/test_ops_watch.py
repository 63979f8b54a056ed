"""scripts/watch.sh: the per-user activity query, run once against a local D1
seeded with requests, and pointed at the remote database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops_helpers import (
    REAL_D1_ID,
    REAL_KV_ID,
    StandIn,
    d1_local_query,
    project_copy,
    run_script,
)

SEED_SQL = """
INSERT INTO requests (user_id, endpoint, status, latency_ms, tokens_est)
VALUES ('ana', '/v1/chat/completions', 200, 120, 40),
       ('ana', '/v1/chat/completions', 429, 1, 0),
       ('ana', '/v1/embeddings', 200, 30, 8),
       ('ben', '/v1/chat/completions', 200, 95, 17);
INSERT INTO requests (user_id, endpoint, status, created_at)
VALUES ('cleo', '/v1/chat/completions', 200, datetime('now', '-10 minutes')),
       ('ben', '/v1/chat/completions', 429, datetime('now', '-6 minutes'));
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    persist = tmp_path_factory.mktemp("d1")
    result = run_script("bootstrap.sh", "--local", "--persist-to", str(persist))
    assert result.returncode == 0, result.stderr
    d1_local_query(persist, SEED_SQL)
    return persist


def _rows(persist: Path) -> dict[str, dict]:
    result = run_script(
        "watch.sh", "--local", "--persist-to", str(persist), "--once", "--json"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)[0]["results"]
    return {row.pop("user_id"): row for row in rows}


def test_watch_once_counts_recent_requests_tokens_and_429s(seeded: Path) -> None:
    rows = _rows(seeded)

    assert rows["ana"]["requests_5m"] == 3
    assert rows["ana"]["tokens_est_5m"] == 48
    assert rows["ana"]["rate_limited_5m"] == 1
    assert rows["ben"]["requests_5m"] == 1
    assert rows["ben"]["rate_limited_5m"] == 0


def test_watch_once_leaves_out_requests_older_than_five_minutes(
    seeded: Path,
) -> None:
    assert set(_rows(seeded)) == {"ana", "ben"}


def test_watch_once_prints_a_table_by_default(seeded: Path) -> None:
    result = run_script("watch.sh", "--persist-to", str(seeded), "--once")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == [
        "user_id",
        "requests_5m",
        "tokens_est_5m",
        "rate_limited_5m",
        "last_seen",
    ]
    assert lines[2].split()[:4] == ["ana", "3", "48", "1"]


def test_watch_remote_queries_the_database_on_cloudflare(tmp_path: Path) -> None:
    stand_in = StandIn(tmp_path)
    project = project_copy(tmp_path / "project", kv_id=REAL_KV_ID, d1_id=REAL_D1_ID)

    result = run_script("watch.sh", "--remote", "--once", env=stand_in.env(project))

    assert result.returncode == 0, result.stderr
    [call] = stand_in.calls()
    assert call[:3] == ["d1", "execute", "organized-gateway-db"]
    assert "--remote" in call
    assert "--local" not in call
