"""The /v1/* proxy, driven through HTTP as a client would."""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import uuid

import httpx
import pytest


def headers_for(user_id: str, **extra: str) -> dict[str, str]:
    return {"X-User-ID": user_id, **extra}


def new_request_id() -> str:
    return "rq-" + uuid.uuid4().hex


# Pass-through


def test_json_answer_comes_back_unchanged(client, user_id, upstream):
    request_id = new_request_id()
    body = b'{"model":"m","messages":[{"role":"user","content":"hi there"}]}'

    response = client.post(
        "/v1/chat/completions",
        content=body,
        headers=headers_for(
            user_id, **{"Content-Type": "application/json", "X-Request-Id": request_id}
        ),
    )

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "You said: hi there"
    assert response.headers["server"].startswith("demo-upstream")
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.method == "POST"
    assert received.target == "/v1/chat/completions"
    assert received.body_sha256 == hashlib.sha256(body).hexdigest()


def test_path_and_query_string_reach_the_upstream(client, user_id, upstream):
    request_id = new_request_id()

    client.get(
        "/v1/models?limit=2&after=a%20b",
        headers=headers_for(user_id, **{"X-Request-Id": request_id}),
    )

    [received] = upstream.recorder.with_request_id(request_id)
    assert received.method == "GET"
    assert received.target == "/v1/models?limit=2&after=a%20b"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_forwarded_as_they_are(client, user_id, upstream, method):
    request_id = new_request_id()

    response = client.request(
        method,
        "/v1/files/file-1",
        content=b"{}",
        headers=headers_for(user_id, **{"X-Request-Id": request_id}),
    )

    assert response.status_code == 200
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.method == method


def test_a_get_with_a_body_is_refused_400_not_crashed(client, user_id, upstream):
    request_id = new_request_id()

    response = client.request(
        "GET",
        "/v1/models",
        content=b'{"x": 1}',
        headers=headers_for(user_id, **{"X-Request-Id": request_id}),
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_not_allowed"
    assert upstream.recorder.with_request_id(request_id) == []
    assert "x-ratelimit-remaining" not in response.headers


def test_large_binary_body_passes_both_ways_byte_for_byte(client, user_id, upstream):
    body = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(body).hexdigest()
    request_id = new_request_id()

    response = client.post(
        "/v1/files",
        content=body,
        headers=headers_for(
            user_id,
            **{
                "Content-Type": "application/octet-stream",
                "X-Fake": "echo",
                "X-Request-Id": request_id,
            },
        ),
    )

    assert response.status_code == 200
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.body_length == len(body)
    assert received.body_sha256 == digest
    assert response.headers["x-body-sha256"] == digest
    assert hashlib.sha256(response.content).hexdigest() == digest


def test_a_chunked_upload_of_unknown_length_arrives_intact(client, user_id, upstream):
    pieces = [os.urandom(256 * 1024) for _ in range(8)]
    digest = hashlib.sha256(b"".join(pieces)).hexdigest()
    request_id = new_request_id()

    response = client.post(
        "/v1/files",
        content=iter(pieces),
        headers=headers_for(user_id, **{"X-Fake": "echo", "X-Request-Id": request_id}),
    )

    assert response.status_code == 200
    [received] = upstream.recorder.with_request_id(request_id)
    assert received.body_sha256 == digest
    assert hashlib.sha256(response.content).hexdigest() == digest


def test_upstream_headers_come_back(client, user_id):
    response = client.post(
        "/v1/files", content=b"x", headers=headers_for(user_id, **{"X-Fake": "echo"})
    )

    assert response.headers["x-upstream-custom"] == "kept"
    assert response.headers["content-type"] == "application/octet-stream"


def test_upstream_errors_are_relayed_not_rewritten(client, user_id):
    response = client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(user_id, **{"X-Fake": "status:503"}),
    )

    assert response.status_code == 503
    assert response.json()["error"]["type"] == "upstream_test"
    assert response.headers["x-request-id"]


def test_redirects_are_passed_back_not_followed(client, user_id, upstream):
    request_id = new_request_id()

    response = client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(
            user_id, **{"X-Fake": "redirect", "X-Request-Id": request_id}
        ),
    )

    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"
    assert len(upstream.recorder.with_request_id(request_id)) == 1


# Streaming


def test_sse_chunks_reach_the_client_as_the_upstream_sends_them(gateway, user_id):
    headers = headers_for(user_id, **{"X-Fake": "sse:5:300:42"})
    arrivals = []

    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        start = time.monotonic()
        with http.stream("POST", "/v1/chat/completions", json={}, headers=headers) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for chunk in r.iter_raw():
                arrivals.append((time.monotonic() - start, chunk))
    body = b"".join(chunk for _, chunk in arrivals)

    first_at = next(t for t, chunk in arrivals if b'"content": "0"' in chunk)
    last_at = next(t for t, chunk in arrivals if b'"content": "4"' in chunk)
    assert body.count(b"data: ") == 7
    assert body.endswith(b"data: [DONE]\n\n")
    # The upstream spends 1.2 s between its first and fifth chunk; a buffering
    # proxy would deliver them together.
    assert last_at - first_at >= 0.9
    assert first_at < 0.9


# Headers


def test_request_headers_are_forwarded_except_gateway_and_hop_by_hop(
    client, user_id, upstream, client_ip
):
    request_id = new_request_id()

    client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(
            user_id,
            **{
                "X-Request-Id": request_id,
                "Authorization": "Bearer sk-client-own-key",
                "OpenAI-Organization": "org-1",
                "X-Custom": "yes",
                "CF-Connecting-IP": client_ip,
                "X-Forwarded-For": client_ip,
                "X-Real-IP": client_ip,
                "X-Codex-Token": "forged",
                "Keep-Alive": "timeout=5",
                "Proxy-Authorization": "Basic secret",
            },
        ),
    )

    [received] = upstream.recorder.with_request_id(request_id)
    assert received.headers["authorization"] == "Bearer sk-client-own-key"
    assert received.headers["openai-organization"] == "org-1"
    assert received.headers["x-custom"] == "yes"
    assert received.headers["x-user-id"] == user_id
    assert received.headers["host"] == upstream.url.removeprefix("http://")
    for name in (
        "cf-connecting-ip",
        "x-forwarded-for",
        "x-real-ip",
        "x-codex-token",
        "keep-alive",
        "proxy-authorization",
    ):
        assert name not in received.headers
    assert client_ip not in str(received.headers)


# Identity


@pytest.mark.parametrize(
    ("user_header", "code"),
    [
        (None, "missing_user_id"),
        ("", "missing_user_id"),
        ("a" * 129, "invalid_user_id"),
        ("alice:0", "invalid_user_id"),
        ("alice bob", "invalid_user_id"),
        ("alice/..", "invalid_user_id"),
    ],
)
def test_bad_user_ids_are_refused_and_nothing_is_forwarded(
    client, upstream, user_header, code
):
    request_id = new_request_id()
    headers = {"X-Request-Id": request_id}
    if user_header is not None:
        headers["X-User-ID"] = user_header

    response = client.post("/v1/chat/completions", json={}, headers=headers)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert response.headers["x-request-id"] == request_id
    assert upstream.recorder.with_request_id(request_id) == []


def test_user_id_at_the_length_limit_is_accepted(client):
    response = client.get("/v1/models", headers={"X-User-ID": "u" * 128})

    assert response.status_code == 200


def test_a_well_formed_request_id_is_kept_and_forwarded(client, user_id, upstream):
    request_id = new_request_id()

    response = client.get(
        "/v1/models", headers=headers_for(user_id, **{"X-Request-Id": request_id})
    )

    assert response.headers["x-request-id"] == request_id
    assert len(upstream.recorder.with_request_id(request_id)) == 1


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "a/b"])
def test_a_missing_or_malformed_request_id_is_replaced(client, user_id, given):
    headers = headers_for(user_id)
    if given is not None:
        headers["X-Request-Id"] = given

    response = client.get("/v1/models", headers=headers)

    returned = response.headers["x-request-id"]
    assert returned and returned != given
    assert returned.startswith("req_")


# Paths


@pytest.mark.parametrize(
    "raw_path",
    [
        "/v1/%2e%2e/admin",
        "/v1/%2E%2E/%2E%2E/admin",
        "/v1/..%2fadmin",
        "/v1/models%2F..%2F..%2Fadmin",
        "/v1/a%5c..%5cadmin",
        "/v1/.%2e/admin",
        "/v1/..;/admin",
        "/v1/%252e%252e/admin",
    ],
)
def test_path_tricks_cannot_leave_v1_on_the_upstream(gateway, upstream, raw_path):
    request_id = new_request_id()

    status = raw_get(gateway, raw_path, request_id)

    # Either the runtime resolved the dots (404, not proxied) or the gateway
    # refused the path (400); nothing reaches the upstream.
    assert status in (400, 404)
    assert upstream.recorder.with_request_id(request_id) == []


def test_dot_segments_never_reach_the_upstream(gateway, upstream):
    request_id = new_request_id()

    status = raw_get(gateway, "/v1/models/../../admin", request_id)

    assert status == 404
    assert upstream.recorder.with_request_id(request_id) == []


def raw_get(gateway, raw_path: str, request_id: str) -> int:
    """GET a path exactly as written (httpx would normalise it); return the status."""
    host, port = gateway.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        headers = {"X-User-ID": "path-tester", "X-Request-Id": request_id}
        conn.request("GET", raw_path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# Failures


def test_unreachable_upstream_answers_502(workers, user_id):
    response = httpx.post(
        workers["unreachable"].url + "/v1/chat/completions",
        json={},
        headers=headers_for(user_id),
        timeout=30,
    )

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_unreachable"
    assert "127.0.0.1" not in error["message"]
    assert response.headers["x-request-id"]


def test_upstream_dropping_the_connection_answers_502(client, user_id):
    response = client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(user_id, **{"X-Fake": "close"}),
    )

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"


def test_upstream_silent_past_the_timeout_answers_504(client, user_id):
    started = time.monotonic()

    response = client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(user_id, **{"X-Fake": "sleep:4000"}),
    )

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 3.5


def test_a_slow_stream_is_not_cut_by_the_header_timeout(client, user_id):
    """The timeout covers the wait for headers; a long stream may run on."""
    response = client.post(
        "/v1/chat/completions",
        json={},
        headers=headers_for(user_id, **{"X-Fake": "sse:4:700"}),
    )

    assert response.status_code == 200
    assert response.content.count(b"data: ") == 5


def test_bad_configuration_answers_500_naming_the_setting(workers, user_id):
    response = httpx.post(
        workers["misconfigured"].url + "/v1/chat/completions",
        json={},
        headers=headers_for(user_id),
        timeout=30,
    )

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["type"] == "configuration_error"
    assert "AUTH_MODE" in error["message"]
    assert "sometimes" not in error["message"]
    assert "Traceback" not in response.text
