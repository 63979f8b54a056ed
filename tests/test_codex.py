"""AUTH_MODE=codex: per-user gateway keys guard the stored OAuth tokens."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import uuid

import httpx
import pytest

from harness import ROOT, wait_for_room_in_this_minute


@pytest.fixture
def codex(codex_gateway):
    with httpx.Client(base_url=codex_gateway.url, timeout=30) as http:
        yield http


def provision(worker, user_id: str, token: str | None = "oauth-token-1") -> str:
    """Store a user's gateway key hash (and OAuth token); return the key."""
    key = "ogw_" + secrets.token_urlsafe(32)
    worker.kv_put(f"gwkey:{user_id}", hashlib.sha256(key.encode()).hexdigest())
    if token is not None:
        worker.kv_put(f"oauth:{user_id}", token)
    return key


def call(http, user_id: str, key: str | None, request_id: str) -> httpx.Response:
    headers = {"X-User-ID": user_id, "X-Request-Id": request_id}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return http.post("/v1/chat/completions", json={"messages": []}, headers=headers)


def new_request_id() -> str:
    return "rq-" + uuid.uuid4().hex


def test_the_stored_token_goes_upstream_and_the_key_does_not(
    codex, codex_gateway, upstream, user_id
):
    key = provision(codex_gateway, user_id, token="oauth-secret-abc")
    request_id = new_request_id()

    response = call(codex, user_id, key, request_id)

    assert response.status_code == 200
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.headers["x-codex-token"] == "oauth-secret-abc"
    assert "authorization" not in received.headers
    assert key not in str(received.headers)


def test_a_request_without_a_key_is_refused_401(codex, upstream, user_id):
    request_id = new_request_id()

    response = call(codex, user_id, None, request_id)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response.json()["error"]["code"] == "missing_api_key"
    assert upstream.recorder.with_request_id(request_id) == []


def test_a_wrong_key_is_refused_401(codex, codex_gateway, upstream, user_id):
    provision(codex_gateway, user_id)
    request_id = new_request_id()

    response = call(codex, user_id, "ogw_" + secrets.token_urlsafe(32), request_id)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert upstream.recorder.with_request_id(request_id) == []


def test_naming_another_user_does_not_spend_their_token(
    codex, codex_gateway, upstream, user_id
):
    victim = "victim-" + uuid.uuid4().hex[:8]
    provision(codex_gateway, victim, token="victim-oauth")
    attacker_key = provision(codex_gateway, user_id, token="attacker-oauth")
    request_id = new_request_id()

    response = call(codex, victim, attacker_key, request_id)

    assert response.status_code == 401
    assert upstream.recorder.with_request_id(request_id) == []


def test_a_user_with_no_stored_token_is_refused_401(
    codex, codex_gateway, upstream, user_id
):
    key = provision(codex_gateway, user_id, token=None)
    request_id = new_request_id()

    response = call(codex, user_id, key, request_id)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_credentials"
    assert upstream.recorder.with_request_id(request_id) == []


def test_an_unknown_user_is_refused_like_a_wrong_key(codex, upstream):
    request_id = new_request_id()

    response = call(codex, "nobody-" + uuid.uuid4().hex[:8], "ogw_guess", request_id)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_refusals_are_logged_with_status_401(codex, codex_gateway, user_id):
    call(codex, user_id, None, new_request_id())

    [row] = codex_gateway.rows_for(user_id)
    assert row["status"] == 401
    assert row["endpoint"] == "/v1/chat/completions"


def test_a_key_from_the_provisioning_script_works_end_to_end(
    codex, codex_gateway, upstream, user_id
):
    script = subprocess.run(
        [
            "bash", "scripts/provision_key.sh", user_id,
            "--local", "--persist-to", str(codex_gateway.state_dir),
            "--oauth-token-stdin",
        ],
        cwd=ROOT,
        input="oauth-from-script",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )  # fmt: skip
    key = script.stdout.strip()
    request_id = new_request_id()

    response = call(codex, user_id, key, request_id)

    assert response.status_code == 200
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.headers["x-codex-token"] == "oauth-from-script"


def test_refusals_do_not_spend_the_named_users_rate_limit(
    codex, codex_gateway, user_id
):
    key = provision(codex_gateway, user_id)
    wait_for_room_in_this_minute(15)
    for _ in range(3):
        call(codex, user_id, "ogw_" + secrets.token_urlsafe(32), new_request_id())

    response = call(codex, user_id, key, new_request_id())

    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "49"


def test_keys_and_tokens_never_reach_logs_or_rows(codex, codex_gateway, user_id):
    key = provision(codex_gateway, user_id, token="oauth-never-logged-" + user_id)
    call(codex, user_id, key, new_request_id())
    call(codex, user_id, key + "x", new_request_id())

    rows = codex_gateway.rows_for(user_id, 2)
    everything = codex_gateway.log() + repr(rows)
    assert key not in everything
    assert "oauth-never-logged-" not in everything
