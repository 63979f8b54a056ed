"""scripts/deploy.sh: its refusals and the baked-in command against the
stand-in wrangler, and the offline dry run with the pinned wrangler."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_helpers import (
    PINNED_WRANGLER,
    REPO,
    StandIn,
    project_copy,
    run_script,
    run_wrangler,
)

SECRETS = ["OPENCLAW_URL", "AUTH_MODE"]


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "gateway": "organized-gateway"}).encode()
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _deploy_calls(stand_in: StandIn) -> list[list[str]]:
    return [argv for argv in stand_in.calls() if argv[0] == "deploy"]


def test_deploy_refuses_placeholder_ids(stand_in: StandIn, tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    stand_in.seed(secrets=SECRETS)

    result = run_script("deploy.sh", env=stand_in.env(project))

    assert result.returncode != 0
    assert "placeholder ids" in result.stderr
    assert "bootstrap.sh" in result.stderr
    assert stand_in.calls() == []


def test_deploy_refuses_while_a_secret_is_unset(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    stand_in.seed(secrets=["OPENCLAW_URL"])

    result = run_script("deploy.sh", env=stand_in.env(bootstrapped))

    assert result.returncode != 0
    assert "secrets not set: AUTH_MODE" in result.stderr
    assert "wrangler secret put" in result.stderr
    assert _deploy_calls(stand_in) == []


def test_deploy_refuses_when_logged_out(stand_in: StandIn, bootstrapped: Path) -> None:
    stand_in.seed(logged_in=False, secrets=SECRETS)

    result = run_script("deploy.sh", env=stand_in.env(bootstrapped))

    assert result.returncode != 0
    assert "wrangler login" in result.stderr
    assert _deploy_calls(stand_in) == []


def test_deploy_runs_the_baked_in_command(
    stand_in: StandIn, bootstrapped: Path, health_url: str
) -> None:
    stand_in.seed(secrets=SECRETS)

    result = run_script(
        "deploy.sh", "--url", health_url, env=stand_in.env(bootstrapped)
    )

    assert result.returncode == 0, result.stderr
    config = str(bootstrapped / "wrangler.toml")
    assert _deploy_calls(stand_in) == [
        ["deploy", "--name", "organized-gateway", "--config", config]
    ]


def test_deploy_checks_health_at_the_given_url(
    stand_in: StandIn, bootstrapped: Path, health_url: str
) -> None:
    stand_in.seed(secrets=SECRETS)
    env = stand_in.env(bootstrapped, GATEWAY_URL=health_url)

    result = run_script("deploy.sh", env=env)

    assert result.returncode == 0, result.stderr
    assert f"healthy: {health_url}/health" in result.stderr


def test_deploy_fails_when_health_does_not_answer(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    stand_in.seed(secrets=SECRETS)
    env = stand_in.env(bootstrapped, HEALTH_RETRIES="1")

    result = run_script("deploy.sh", "--url", "http://127.0.0.1:9", env=env)

    assert result.returncode != 0
    assert "did not answer" in result.stderr


def test_deploy_without_a_url_says_how_to_check(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    stand_in.seed(secrets=SECRETS)

    result = run_script("deploy.sh", env=stand_in.env(bootstrapped))

    assert result.returncode == 0, result.stderr
    assert "workers.dev/health" in result.stderr


def test_deploy_takes_the_url_wrangler_prints(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    stand_in.seed(secrets=SECRETS)
    printed = "https://organized-gateway.ops.workers.dev"
    env = stand_in.env(bootstrapped, STANDIN_DEPLOY_URL=printed, HEALTH_RETRIES="1")

    result = run_script("deploy.sh", env=env)

    # Offline the check cannot succeed; what matters is where it looked.
    assert f"{printed}/health did not answer" in result.stderr


def test_dry_run_builds_a_bundle_with_the_entry_module(tmp_path: Path) -> None:
    outdir = tmp_path / "bundle"

    result = run_script("deploy.sh", "--dry-run", "--outdir", str(outdir))

    assert result.returncode == 0, result.stderr
    assert (outdir / "entry.py").read_bytes() == (REPO / "src/entry.py").read_bytes()
    assert (outdir / "gateway" / "__init__.py").is_file()


@pytest.mark.parametrize(
    "wrangler",
    [
        [str(PINNED_WRANGLER)],
        ["node", str(REPO / "node_modules/wrangler4/bin/wrangler.js")],
    ],
    ids=["wrangler-3.68.0", "wrangler-4.86.0"],
)
def test_wrangler_rejects_commit_dirty_on_deploy(
    wrangler: list[str], tmp_path: Path
) -> None:
    args = ["deploy", "--dry-run", "--outdir", str(tmp_path), "--commit-dirty=true"]

    result = run_wrangler(wrangler, *args)

    assert result.returncode != 0
    assert "Unknown arguments: commit-dirty" in result.stderr
