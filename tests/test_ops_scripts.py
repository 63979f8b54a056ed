"""Every shell script in scripts/: --help works, shellcheck is clean, and the
operations scripts keep the house layout."""

from __future__ import annotations

import subprocess

import pytest

from ops_helpers import REPO, SCRIPTS, run_script

SHELLCHECK = REPO / ".venv" / "bin" / "shellcheck"
ALL_SCRIPTS = sorted(path.name for path in SCRIPTS.glob("*.sh"))
OPS_SCRIPTS = ["bootstrap.sh", "deploy.sh", "provision_key.sh", "types.sh", "watch.sh"]
SHELL_FILES = [*(f"scripts/{name}" for name in ALL_SCRIPTS), "scripts/lib/common.bash"]


def test_the_operations_scripts_exist() -> None:
    assert set(OPS_SCRIPTS) <= set(ALL_SCRIPTS)


@pytest.mark.parametrize("name", ALL_SCRIPTS)
def test_script_help_exits_zero_with_usage(name: str) -> None:
    result = run_script(name, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


@pytest.mark.parametrize("path", SHELL_FILES)
def test_script_passes_shellcheck(path: str) -> None:
    result = subprocess.run(
        [str(SHELLCHECK), "--external-sources", path],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", OPS_SCRIPTS)
def test_operations_script_follows_the_house_layout(name: str) -> None:
    lines = (SCRIPTS / name).read_text().splitlines()

    assert lines[0] == "#!/usr/bin/env bash"
    assert lines[1].startswith("# ")
    assert "set -euo pipefail" in lines
    assert lines[-1] == 'main "$@"'


@pytest.mark.parametrize("path", [*OPS_SCRIPTS, "lib/common.bash"])
def test_operations_script_lines_fit_80_columns(path: str) -> None:
    text = (SCRIPTS / path).read_text()

    assert [line for line in text.splitlines() if len(line) > 80] == []


@pytest.mark.parametrize("name", OPS_SCRIPTS)
def test_operations_script_rejects_an_unknown_option(name: str) -> None:
    result = run_script(name, "--no-such-option")

    assert result.returncode == 2
    assert "unknown" in result.stderr


@pytest.mark.parametrize("name", OPS_SCRIPTS)
def test_operations_script_is_executable(name: str) -> None:
    assert (SCRIPTS / name).stat().st_mode & 0o111
