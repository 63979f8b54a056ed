"""The README's dev command: the gateway with its demo upstream, out of the box."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time

import httpx
import pytest

from harness import ROOT, free_port

COPIED = ("wrangler.toml", "package.json", "package-lock.json", "pyproject.toml")


@pytest.fixture
def project_copy(tmp_path):
    """A copy of the project, sharing the installed node_modules and .venv."""
    subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, check=True, timeout=600)
    for name in COPIED:
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("src", "migrations", "scripts"):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
            copy_function=shutil.copy2,
        )
    for installed in ("node_modules", ".venv"):
        (tmp_path / installed).symlink_to(ROOT / installed)
    return tmp_path


def wait_for_health(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError("dev.sh did not serve /health; its output:\n" + log())


def test_dev_command_serves_health_and_the_demo_upstream(project_copy, tmp_path):
    port, demo_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENCLAW_URL", "AUTH_MODE")
    }
    env["DEMO_UPSTREAM_PORT"] = str(demo_port)
    output = tmp_path / "dev.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            ["bash", "scripts/dev.sh", "--port", str(port)],
            cwd=project_copy,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, output.read_text)
        answer = httpx.post(
            url + "/v1/chat/completions",
            json={
                "model": "demo-echo-1",
                "messages": [{"role": "user", "content": "hi"}],
            },
            headers={"X-User-ID": "alice"},
            timeout=30,
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)

    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "You said: hi"
    printed = output.read_text()
    assert f"curl -s http://127.0.0.1:{port}/health" in printed
    assert "/v1/chat/completions" in printed
