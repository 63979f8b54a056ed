"""scripts/provision_key.sh: the key it prints, what it stores in GATEWAY_KV
(real local KV via the pinned wrangler, and the stand-in for Cloudflare), and
what it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.auth import key_matches
from ops_helpers import (
    StandIn,
    kv_local_get,
    project_copy,
    run_script,
    sha256_hex,
)

KEY_SHAPE = re.compile(r"ogw_[A-Za-z0-9_-]{43}")
USER = "alice.ops@example"
TOKEN = "oauth-token-for-alice"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    persist = tmp_path_factory.mktemp("kv")
    result = run_script(
        "provision_key.sh",
        USER,
        "--local",
        "--persist-to",
        str(persist),
        "--oauth-token-stdin",
        stdin=TOKEN + "\n",
    )
    assert result.returncode == 0, result.stderr
    return persist, result.stdout


def test_provision_key_prints_only_the_key_on_stdout(
    local_run: tuple[Path, str],
) -> None:
    _, stdout = local_run
    assert stdout.endswith("\n")
    assert KEY_SHAPE.fullmatch(stdout.rstrip("\n"))


def test_provision_key_stores_the_sha256_of_the_key(
    local_run: tuple[Path, str],
) -> None:
    persist, stdout = local_run
    key = stdout.strip()

    stored = kv_local_get(persist, f"gwkey:{USER}")

    assert stored == sha256_hex(key)
    assert key_matches(key, stored)


def test_provision_key_stores_the_oauth_token_read_from_stdin(
    local_run: tuple[Path, str],
) -> None:
    persist, _ = local_run

    assert kv_local_get(persist, f"oauth:{USER}") == TOKEN


@pytest.mark.parametrize("user_id", ["", "a:b", "a b", "x" * 129, "ünï"])
def test_provision_key_rejects_a_malformed_user_id(
    user_id: str, stand_in: StandIn, bootstrapped: Path
) -> None:
    result = run_script("provision_key.sh", user_id, env=stand_in.env(bootstrapped))

    assert result.returncode == 2
    assert result.stdout == ""
    assert stand_in.calls() == []


def test_provision_key_keeps_key_and_token_off_command_lines(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    result = run_script(
        "provision_key.sh",
        USER,
        "--oauth-token-stdin",
        env=stand_in.env(bootstrapped),
        stdin=TOKEN,
    )

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    every_arg = " ".join(arg for argv in stand_in.calls() for arg in argv)
    assert key not in every_arg
    assert sha256_hex(key) not in every_arg
    assert TOKEN not in every_arg


def test_provision_key_writes_to_the_remote_namespace_by_default(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    result = run_script("provision_key.sh", USER, env=stand_in.env(bootstrapped))

    key = result.stdout.strip()
    assert stand_in.state()["kv_values"] == {f"gwkey:{USER}": sha256_hex(key)}
    [put] = stand_in.calls()
    assert put[:6] == ["kv", "key", "put", "--binding", "GATEWAY_KV", f"gwkey:{USER}"]
    assert "--local" not in put


def test_provision_key_again_replaces_the_key(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    env = stand_in.env(bootstrapped)
    first = run_script("provision_key.sh", USER, env=env).stdout.strip()

    second = run_script("provision_key.sh", USER, env=env).stdout.strip()

    assert first != second
    stored = stand_in.state()["kv_values"][f"gwkey:{USER}"]
    assert key_matches(second, stored)
    assert not key_matches(first, stored)


def test_provision_key_refuses_remote_with_placeholder_ids(
    stand_in: StandIn, tmp_path: Path
) -> None:
    project = project_copy(tmp_path / "project")

    result = run_script("provision_key.sh", USER, env=stand_in.env(project))

    assert result.returncode != 0
    assert "bootstrap.sh" in result.stderr
    assert stand_in.calls() == []


def test_provision_key_refuses_an_empty_token(
    stand_in: StandIn, bootstrapped: Path
) -> None:
    result = run_script(
        "provision_key.sh",
        USER,
        "--oauth-token-stdin",
        env=stand_in.env(bootstrapped),
        stdin="\n",
    )

    assert result.returncode != 0
    assert "no OAuth token" in result.stderr
    assert stand_in.calls() == []
