"""Per-user, per-minute rate limiting, against the real worker and local KV."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from harness import wait_for_room_in_this_minute, wrangler

CAP = 50


def get(client, user_id: str) -> httpx.Response:
    return client.get("/v1/models", headers={"X-User-ID": user_id})


def test_the_51st_request_in_a_minute_is_refused_429(
    client, gateway, user_id, upstream
):
    wait_for_room_in_this_minute(20)

    allowed = [get(client, user_id) for _ in range(CAP)]
    refused = client.get(
        "/v1/models",
        headers={"X-User-ID": user_id, "X-Request-Id": "rq-refused-" + user_id},
    )

    assert [r.status_code for r in allowed] == [200] * CAP
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert error["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert upstream.recorder.with_request_id("rq-refused-" + user_id) == []
    rows = gateway.rows_for(user_id, CAP + 1)
    assert [row["status"] for row in rows] == [200] * CAP + [429]


def test_rate_limit_headers_count_down_on_every_proxied_response(client, user_id):
    wait_for_room_in_this_minute(10)

    responses = [get(client, user_id) for _ in range(3)]

    assert [r.headers["x-ratelimit-limit"] for r in responses] == ["50"] * 3
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["49", "48", "47"]
    assert all(1 <= int(r.headers["x-ratelimit-reset"]) <= 60 for r in responses)


def test_refused_requests_do_not_count(client, gateway, user_id):
    minute = wait_for_room_in_this_minute(25)
    for _ in range(CAP + 5):
        get(client, user_id)
    time.sleep(2.5)

    assert kv_get(gateway, f"rate:{user_id}:{minute}") == str(CAP)


async def burst(base_url: str, users: list[str], per_user: int, concurrency: int):
    limits = httpx.Limits(max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:

        async def one(user: str) -> tuple[str, int]:
            async with gate:
                response = await http.get("/v1/models", headers={"X-User-ID": user})
                return user, response.status_code

        jobs = [one(user) for _ in range(per_user) for user in users]
        return await asyncio.gather(*jobs)


def test_a_concurrent_burst_is_capped_per_user(gateway):
    users = [f"burst-{uuid.uuid4().hex[:8]}-{i}" for i in range(20)]
    wait_for_room_in_this_minute(30)

    results = asyncio.run(burst(gateway.url, users, per_user=55, concurrency=50))

    for user in users:
        statuses = [status for who, status in results if who == user]
        assert statuses.count(200) == CAP, user
        assert statuses.count(429) == 5, user


def kv_get(worker, key: str) -> str:
    result = wrangler(
        "kv", "key", "get", "--binding", "GATEWAY_KV", key,
        "--local", "--persist-to", str(worker.state_dir),
    )  # fmt: skip
    return result.stdout.strip()


def test_the_count_is_carried_in_kv_under_the_documented_key(client, gateway, user_id):
    minute = wait_for_room_in_this_minute(15)

    for _ in range(7):
        get(client, user_id)
    time.sleep(2.5)

    assert kv_get(gateway, f"rate:{user_id}:{minute}") == "7"


def test_a_count_already_in_kv_is_honoured(client, gateway, user_id):
    minute = wait_for_room_in_this_minute(25)
    gateway.kv_put(f"rate:{user_id}:{minute}", str(CAP - 1))

    first = get(client, user_id)
    second = get(client, user_id)

    assert first.status_code == 200
    assert first.headers["x-ratelimit-remaining"] == "0"
    assert second.status_code == 429
