"""The worker starts, answers /health, 404s unknown routes, and has its schema."""

from __future__ import annotations

import json

import httpx
import pytest

from harness import DB_NAME, wrangler


def test_health_answers_ok_with_the_gateway_name(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "gateway": "organized-gateway"}
    assert response.headers["x-request-id"]


def test_health_needs_no_configuration(workers):
    """/health touches no setting: it answers even when AUTH_MODE is invalid."""
    response = httpx.get(workers["misconfigured"].url + "/health")

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/", "/v2/chat/completions", "/v1", "/healthz"])
def test_unknown_routes_answer_404_in_the_openai_shape(client, path):
    response = client.post(path, json={})

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "unknown_route"
    assert path in error["message"]
    assert response.headers["x-request-id"]


def local_schema(worker) -> dict[str, str]:
    result = wrangler(
        "d1", "execute", DB_NAME, "--local", "--persist-to", str(worker.state_dir),
        "--json", "--command", "SELECT name, type FROM sqlite_master",
    )  # fmt: skip
    rows = json.loads(result.stdout)[0]["results"]
    return {row["name"]: row["type"] for row in rows}


def test_migration_creates_the_requests_table_index_and_view(gateway):
    schema = local_schema(gateway)

    assert schema["requests"] == "table"
    assert schema["idx_requests_user_id_created_at"] == "index"
    assert schema["user_summary"] == "view"


def test_requests_table_has_the_documented_columns(gateway):
    columns = gateway.query("SELECT name, pk FROM pragma_table_info('requests')")

    names = [column["name"] for column in columns]
    assert names == [
        "id", "user_id", "endpoint", "status", "latency_ms",
        "tokens_est", "ip_hash", "created_at",
    ]  # fmt: skip
    assert [c["name"] for c in columns if c["pk"]] == ["id"]
