"""worker-configuration.d.ts stays in step with wrangler.toml (scripts/types.sh,
which runs wrangler 4's `wrangler types`)."""

from __future__ import annotations

from pathlib import Path

from ops_helpers import REPO, project_copy, run_script, script_env

TYPES = "worker-configuration.d.ts"


def test_committed_types_match_wrangler_toml() -> None:
    result = run_script("types.sh", "--check")

    assert result.returncode == 0, result.stderr


def test_types_check_fails_when_wrangler_toml_gains_a_var(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    toml = project / "wrangler.toml"
    toml.write_text(toml.read_text() + 'TIER_LIMITS = "x"\n')

    result = run_script(
        "types.sh", "--check", env=script_env(GATEWAY_ROOT=str(project))
    )

    assert result.returncode != 0
    assert "TIER_LIMITS" in result.stderr
    assert f"{TYPES} is out of date" in result.stderr


def test_regenerating_reproduces_the_committed_file(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    (project / TYPES).unlink()

    result = run_script("types.sh", env=script_env(GATEWAY_ROOT=str(project)))

    assert result.returncode == 0, result.stderr
    assert (project / TYPES).read_bytes() == (REPO / TYPES).read_bytes()


def test_types_ignore_a_developers_dev_vars(tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project")
    (project / ".dev.vars").write_text('PRIVATE_EXPERIMENT="1"\n')

    result = run_script(
        "types.sh", "--check", env=script_env(GATEWAY_ROOT=str(project))
    )

    assert result.returncode == 0, result.stderr


def test_types_list_every_binding_var_and_secret() -> None:
    text = (REPO / TYPES).read_text()

    for declaration in (
        "GATEWAY_KV: KVNamespace;",
        "DB: D1Database;",
        'RATE_LIMIT_PER_MINUTE: "50";',
        'RATE_LIMIT_TTL_SECONDS: "120";',
        'UPSTREAM_TIMEOUT_MS: "120000";',
        "OPENCLAW_URL: string;",
        "AUTH_MODE: string;",
    ):
        assert declaration in text
