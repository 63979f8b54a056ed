"""The D1 request log, token estimates and tail log lines, end to end."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import httpx
import pytest


def ip_hash(ip: str) -> str:
    return hashlib.sha256(ip.encode()).hexdigest()[:8]


def post(client, user_id: str, fake: str | None = None, **headers: str):
    if fake is not None:
        headers["X-Fake"] = fake
    return client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "count me"}]},
        headers={"X-User-ID": user_id, **headers},
    )


def test_a_success_leaves_one_row_with_its_facts(client, gateway, user_id, client_ip):
    post(client, user_id, **{"CF-Connecting-IP": client_ip})

    [row] = gateway.rows_for(user_id)
    assert row["endpoint"] == "/v1/chat/completions"
    assert row["status"] == 200
    assert row["latency_ms"] >= 0
    assert row["ip_hash"] == ip_hash(client_ip)
    assert row["created_at"]


def test_recent_rows_are_found_by_the_created_at_window(client, gateway, user_id):
    post(client, user_id)
    gateway.rows_for(user_id)

    rows = gateway.query(
        "SELECT * FROM requests WHERE user_id = ?"
        " AND created_at > datetime('now', '-5 minutes')",
        (user_id,),
    )
    assert len(rows) == 1


@pytest.mark.parametrize(
    ("fake", "tokens"),
    [
        ("json-usage:123", 123),
        ("sse:3:10:77", 77),
        (None, 6),
        ("sse:3:10", 0),
        ("malformed", 0),
        ("malformed-sse", 0),
        ("echo", 0),
    ],
)
def test_tokens_est_comes_from_the_upstream_usage(
    client, gateway, user_id, fake, tokens
):
    post(client, user_id, fake)

    [row] = gateway.rows_for(user_id)
    assert row["tokens_est"] == tokens


@pytest.mark.parametrize(("fake", "status"), [("status:503", 503), ("status:400", 400)])
def test_upstream_errors_are_logged_with_their_status(
    client, gateway, user_id, fake, status
):
    post(client, user_id, fake)

    [row] = gateway.rows_for(user_id)
    assert row["status"] == status


def test_an_unidentified_request_is_logged_without_a_user(client, gateway, client_ip):
    response = client.post(
        "/v1/chat/completions", json={}, headers={"CF-Connecting-IP": client_ip}
    )

    assert response.status_code == 400
    [row] = gateway.wait_rows("ip_hash = ?", (ip_hash(client_ip),), 1)
    assert row["status"] == 400
    assert row["user_id"] == ""


def test_a_timeout_is_logged_as_504_with_its_latency(client, gateway, user_id):
    post(client, user_id, "sleep:4000")

    [row] = gateway.rows_for(user_id)
    assert row["status"] == 504
    assert row["latency_ms"] >= 1400


def test_an_unreachable_upstream_is_logged_as_502(workers, user_id):
    worker = workers["unreachable"]
    httpx.post(worker.url + "/v1/models", headers={"X-User-ID": user_id}, timeout=30)

    [row] = worker.rows_for(user_id)
    assert row["status"] == 502


def test_a_client_abandoning_a_stream_still_leaves_one_row(gateway, user_id):
    """The client closes after the first chunk. (Locally wrangler's proxy may
    keep reading for it; either way the row counts what the upstream sent.)"""
    headers = {"X-User-ID": user_id, "X-Fake": "sse:10:200:55"}
    with (
        httpx.Client(base_url=gateway.url, timeout=30) as http,
        http.stream("POST", "/v1/chat/completions", json={}, headers=headers) as r,
    ):
        next(r.iter_raw())

    # The upstream takes 2 s more to finish; the row is written when it has.
    rows = gateway.wait_rows("user_id = ?", (user_id,), 1, timeout_s=10)
    assert len(rows) == 1
    assert rows[0]["status"] == 200
    assert rows[0]["tokens_est"] == 55


def test_an_upstream_cutting_its_stream_still_leaves_one_row(client, gateway, user_id):
    try:
        post(client, user_id, "cut-sse:3:50")
    except httpx.HTTPError:
        pass  # the cut may or may not reach the client as an error

    rows = gateway.rows_for(user_id)
    assert [row["status"] for row in rows] == [200]


async def concurrent_posts(base_url: str, users: list[str], per_user: int):
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        jobs = [
            http.post(
                "/v1/chat/completions",
                json={"messages": [{"role": "user", "content": "x"}]},
                headers={"X-User-ID": user},
            )
            for _ in range(per_user)
            for user in users
        ]
        return await asyncio.gather(*jobs)


def test_200_concurrent_requests_leave_200_rows(gateway):
    tag = uuid.uuid4().hex[:8]
    users = [f"many-{tag}-{i}" for i in range(8)]

    responses = asyncio.run(concurrent_posts(gateway.url, users, per_user=25))

    assert [r.status_code for r in responses] == [200] * 200
    rows = gateway.wait_rows("user_id LIKE ?", (f"many-{tag}-%",), 200)
    assert len(rows) == 200
    assert {row["status"] for row in rows} == {200}
    for user in users:
        assert sum(row["user_id"] == user for row in rows) == 25


def test_the_proxy_still_answers_when_the_log_table_is_missing(workers, user_id):
    worker = workers["unmigrated"]

    response = httpx.post(
        worker.url + "/v1/chat/completions",
        json={"messages": []},
        headers={"X-User-ID": user_id, "X-Request-Id": "rq-no-table-" + user_id},
        timeout=30,
    )

    assert response.status_code == 200
    failure = wait_for_event(worker, "request_log_failed", "rq-no-table-" + user_id)
    assert "no such table" in failure["error"]


def wait_for_event(worker, event: str, request_id: str, timeout_s: float = 10):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in worker.log_events():
            if line["event"] == event and request_id in line.get("request_ids", []):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no {event} line for {request_id}")


def test_an_absurd_token_count_loses_no_rows(client, gateway, user_id):
    neighbour = user_id + "-n"
    with httpx.Client(base_url=gateway.url, timeout=30) as other:
        post(client, user_id, "json-usage:99999999999999999999")
        post(other, neighbour, "json-usage:7")

    [row] = gateway.rows_for(user_id)
    [neighbour_row] = gateway.rows_for(neighbour)
    assert row["tokens_est"] == 0
    assert neighbour_row["tokens_est"] == 7


def test_user_summary_answers_the_dashboard_questions(client, gateway, user_id):
    post(client, user_id, "json-usage:10")
    post(client, user_id, "json-usage:30")
    post(client, user_id, "status:500")
    gateway.rows_for(user_id, 3)

    [summary] = gateway.query(
        "SELECT * FROM user_summary WHERE user_id = ?", (user_id,)
    )

    assert summary["requests"] == 3
    assert summary["tokens_est"] == 40
    assert summary["errors"] == 1
    assert summary["rate_limited"] == 0
    assert summary["avg_latency_ms"] >= 0
    assert summary["last_seen"] >= summary["first_seen"]


def test_each_request_prints_one_json_tail_line(client, gateway, user_id, client_ip):
    post(client, user_id, "json-usage:5", **{"CF-Connecting-IP": client_ip})
    gateway.rows_for(user_id)

    lines = [
        e
        for e in gateway.log_events()
        if e["event"] == "request" and e.get("user_id") == user_id
    ]
    assert len(lines) == 1
    line = lines[0]
    assert {
        "request_id",
        "user_id",
        "route",
        "status",
        "latency_ms",
        "tokens_est",
        "ip_hash",
    } <= set(line)
    assert line["tokens_est"] == 5
    assert line["ip_hash"] == ip_hash(client_ip)


def test_logs_and_rows_carry_no_secret_raw_ip_or_body(client, gateway, user_id):
    secret_ip = "2001:db8::dead:beef:" + uuid.uuid4().hex[:4]
    api_key = "sk-test-" + uuid.uuid4().hex
    prompt = "prompt-" + uuid.uuid4().hex
    client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": prompt}]},
        headers={
            "X-User-ID": user_id,
            "Authorization": f"Bearer {api_key}",
            "CF-Connecting-IP": secret_ip,
        },
    )
    rows = gateway.rows_for(user_id)

    everything = gateway.log() + repr(rows)
    for secret in (secret_ip, api_key, prompt):
        assert secret not in everything
