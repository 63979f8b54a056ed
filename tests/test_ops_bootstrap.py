"""scripts/bootstrap.sh: local mode against the pinned wrangler, account mode
against the stand-in wrangler on a copy of the project."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ops_helpers import (
    REPO,
    StandIn,
    d1_local_query,
    project_copy,
    run_script,
)

SCHEMA_SQL = "SELECT type, name FROM sqlite_master ORDER BY type, name"
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
KV_TITLE = "organized-gateway-GATEWAY_KV"


@pytest.fixture(scope="module")
def local_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    persist = tmp_path_factory.mktemp("local-state")
    toml_before = (REPO / "wrangler.toml").read_bytes()
    result = run_script("bootstrap.sh", "--local", "--persist-to", str(persist))
    assert result.returncode == 0, result.stderr
    assert (REPO / "wrangler.toml").read_bytes() == toml_before
    return persist


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return project_copy(tmp_path / "project")


def _toml_values(project: Path) -> dict:
    config = tomllib.loads((project / "wrangler.toml").read_text())
    return {
        "account_id": config["account_id"],
        "kv_id": config["kv_namespaces"][0]["id"],
        "d1_id": config["d1_databases"][0]["database_id"],
    }


def test_local_bootstrap_creates_table_index_and_view(local_state: Path) -> None:
    objects = {
        (row["type"], row["name"]) for row in d1_local_query(local_state, SCHEMA_SQL)
    }
    assert ("table", "requests") in objects
    assert ("index", "idx_requests_user_id_created_at") in objects
    assert ("view", "user_summary") in objects


def test_local_bootstrap_rerun_applies_nothing(local_state: Path) -> None:
    before = d1_local_query(local_state, SCHEMA_SQL)

    result = run_script("bootstrap.sh", "--local", "--persist-to", str(local_state))

    assert result.returncode == 0, result.stderr
    assert "No migrations to apply" in result.stderr
    assert d1_local_query(local_state, SCHEMA_SQL) == before
    applied = d1_local_query(local_state, "SELECT name FROM d1_migrations")
    assert applied == [{"name": "0001_init.sql"}]


def test_account_bootstrap_creates_missing_namespace_and_database(
    stand_in: StandIn, project: Path
) -> None:
    result = run_script("bootstrap.sh", env=stand_in.env(project))

    assert result.returncode == 0, result.stderr
    assert ["kv", "namespace", "create", "GATEWAY_KV"] in stand_in.commands()
    assert ["d1", "create", "organized-gateway-db"] in stand_in.commands()
    assert [ns["title"] for ns in stand_in.state()["kv"]] == [KV_TITLE]
    assert [db["name"] for db in stand_in.state()["d1"]] == ["organized-gateway-db"]


def test_account_bootstrap_writes_listed_ids_into_wrangler_toml(
    stand_in: StandIn, project: Path
) -> None:
    run_script("bootstrap.sh", env=stand_in.env(project))

    state = stand_in.state()
    assert _toml_values(project) == {
        "account_id": ACCOUNT_ID,
        "kv_id": state["kv"][0]["id"],
        "d1_id": state["d1"][0]["uuid"],
    }


def test_account_bootstrap_changes_only_the_id_lines(
    stand_in: StandIn, project: Path
) -> None:
    before = (project / "wrangler.toml").read_text().splitlines()

    run_script("bootstrap.sh", env=stand_in.env(project))

    after = (project / "wrangler.toml").read_text().splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert [old for old, _ in changed] == [
        'account_id = ""',
        'id = "local-gateway-kv"',
        'database_id = "local-organized-gateway-db"',
    ]


def test_account_bootstrap_applies_migrations_remotely(
    stand_in: StandIn, project: Path
) -> None:
    run_script("bootstrap.sh", env=stand_in.env(project))

    migrate = [argv for argv in stand_in.calls() if argv[:2] == ["d1", "migrations"]]
    assert len(migrate) == 1
    assert migrate[0][:5] == [
        "d1",
        "migrations",
        "apply",
        "organized-gateway-db",
        "--remote",
    ]
    assert stand_in.state()["migrations_applied"] == ["0001_init.sql"]


def test_account_bootstrap_rerun_creates_nothing_and_keeps_wrangler_toml(
    stand_in: StandIn, project: Path
) -> None:
    run_script("bootstrap.sh", env=stand_in.env(project))
    toml = project / "wrangler.toml"
    first_text, first_mtime = toml.read_bytes(), toml.stat().st_mtime_ns
    stand_in.forget_calls()

    result = run_script("bootstrap.sh", env=stand_in.env(project))

    assert result.returncode == 0, result.stderr
    assert not [cmd for cmd in stand_in.commands() if "create" in cmd]
    assert toml.read_bytes() == first_text
    assert toml.stat().st_mtime_ns == first_mtime
    assert "No migrations to apply" in result.stderr


def test_account_bootstrap_reuses_resources_found_by_name(
    stand_in: StandIn, project: Path
) -> None:
    kv_id, d1_id = "a" * 32, "0b6f1c3e-9d4a-4e8b-a7c5-0f1e2d3c4b5a"
    stand_in.seed(
        kv=[
            {"id": "b" * 32, "title": "another-worker-GATEWAY_KV"},
            {"id": kv_id, "title": KV_TITLE},
        ],
        d1=[
            {"uuid": "1b6f1c3e-9d4a-4e8b-a7c5-0f1e2d3c4b5a", "name": "other-db"},
            {"uuid": d1_id, "name": "organized-gateway-db"},
        ],
    )

    result = run_script("bootstrap.sh", env=stand_in.env(project))

    assert result.returncode == 0, result.stderr
    assert not [cmd for cmd in stand_in.commands() if "create" in cmd]
    values = _toml_values(project)
    assert (values["kv_id"], values["d1_id"]) == (kv_id, d1_id)


def test_account_bootstrap_keeps_an_account_id_already_set(
    stand_in: StandIn, project: Path
) -> None:
    toml = project / "wrangler.toml"
    mine = "f" * 32
    toml.write_text(
        toml.read_text().replace('account_id = ""', f'account_id = "{mine}"')
    )

    run_script("bootstrap.sh", env=stand_in.env(project))

    assert _toml_values(project)["account_id"] == mine


def test_account_bootstrap_stops_with_a_hint_when_logged_out(
    stand_in: StandIn, project: Path
) -> None:
    stand_in.seed(logged_in=False)
    toml_before = (project / "wrangler.toml").read_bytes()

    result = run_script("bootstrap.sh", env=stand_in.env(project))

    assert result.returncode != 0
    assert "wrangler login" in result.stderr
    assert stand_in.commands() == [["whoami"]]
    assert (project / "wrangler.toml").read_bytes() == toml_before
