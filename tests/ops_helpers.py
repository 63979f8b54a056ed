"""Helpers for the operations-script tests (tests/test_ops_*.py).

Scripts run as subprocesses, the way an operator runs them. Account commands
go to the stand-in wrangler (tests/stand_in/wrangler.py) through the WRANGLER
variable; local KV and D1 use the pinned wrangler with a temporary
--persist-to directory. Anything that edits wrangler.toml runs on a copy of
the project made with `project_copy`, selected with GATEWAY_ROOT.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
PINNED_WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
STAND_IN = REPO / "tests" / "stand_in" / "wrangler.py"
REAL_KV_ID = "5f0c2d9a8b7e4f6190a1b2c3d4e5f607"
REAL_D1_ID = "2b6f1c3e-9d4a-4e8b-a7c5-0f1e2d3c4b5a"
_STRIPPED = ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "GATEWAY_URL")


def script_env(**extra: str) -> dict[str, str]:
    """Return a clean environment for running a script."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    env["WRANGLER_SEND_METRICS"] = "false"
    env.update(extra)
    return env


def run_script(
    name: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run scripts/<name> with bash and capture its output."""
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args],
        env=env or script_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def run_wrangler(binary: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a wrangler command line in the repository; return what it did."""
    return subprocess.run(
        [*binary, *args],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def pinned_wrangler(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned wrangler 3.68.0 in the repository; fail loudly."""
    result = run_wrangler([str(PINNED_WRANGLER)], *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def d1_local_query(persist: Path, sql: str) -> list[dict]:
    """Run SQL on the local D1 kept in `persist` and return the rows."""
    result = pinned_wrangler(
        "d1",
        "execute",
        "organized-gateway-db",
        "--local",
        "--persist-to",
        str(persist),
        "--json",
        "--command",
        sql,
    )
    return json.loads(result.stdout)[0]["results"]


def kv_local_get(persist: Path, key: str) -> str:
    """Return a GATEWAY_KV value from the local KV kept in `persist`."""
    args = ["kv", "key", "get", "--binding", "GATEWAY_KV", key, "--local"]
    return pinned_wrangler(*args, "--persist-to", str(persist)).stdout


def sha256_hex(text: str) -> str:
    """Return the lowercase hex SHA-256 of a string."""
    return hashlib.sha256(text.encode()).hexdigest()


def project_copy(target: Path, *, kv_id: str = "", d1_id: str = "") -> Path:
    """Copy what the scripts read into `target`, optionally with real ids."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "migrations", target / "migrations")
    (target / "src").mkdir()
    shutil.copy(REPO / "src" / "entry.py", target / "src" / "entry.py")
    shutil.copy(REPO / "worker-configuration.d.ts", target)
    text = (REPO / "wrangler.toml").read_text()
    if kv_id:
        text = text.replace('id = "local-gateway-kv"', f'id = "{kv_id}"')
    if d1_id:
        text = text.replace('"local-organized-gateway-db"', f'"{d1_id}"')
    (target / "wrangler.toml").write_text(text)
    return target


@dataclass
class StandIn:
    """The stand-in wrangler's account state and call log."""

    directory: Path

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    @property
    def calls_file(self) -> Path:
        return self.directory / "calls.jsonl"

    def env(self, root: Path, **extra: str) -> dict[str, str]:
        """Return a script environment that uses the stand-in on `root`."""
        return script_env(
            WRANGLER=str(STAND_IN),
            GATEWAY_ROOT=str(root),
            STANDIN_STATE=str(self.state_file),
            STANDIN_CALLS=str(self.calls_file),
            **extra,
        )

    def seed(self, **state: object) -> None:
        self.state_file.write_text(json.dumps(state))

    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def calls(self) -> list[list[str]]:
        if not self.calls_file.exists():
            return []
        lines = self.calls_file.read_text().splitlines()
        return [json.loads(line)["argv"] for line in lines]

    def commands(self) -> list[list[str]]:
        """Return each call's leading words (no options), e.g. ['d1', 'create']."""
        words = []
        for argv in self.calls():
            lead = []
            for arg in argv:
                if arg.startswith("-"):
                    break
                lead.append(arg)
            words.append(lead)
        return words

    def forget_calls(self) -> None:
        self.calls_file.unlink(missing_ok=True)
