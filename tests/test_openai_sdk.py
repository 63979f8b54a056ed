"""The official openai SDK works through the gateway and raises the right errors."""

from __future__ import annotations

import openai
import pytest

from harness import wait_for_room_in_this_minute


def sdk(worker, user_id: str | None, api_key: str = "sk-unused") -> openai.OpenAI:
    headers = {"X-User-ID": user_id} if user_id is not None else {}
    return openai.OpenAI(
        base_url=worker.url + "/v1",
        api_key=api_key,
        default_headers=headers,
        max_retries=0,
        timeout=30,
    )


MESSAGES = [{"role": "user", "content": "hello gateway"}]


def test_chat_completion_through_the_sdk(gateway, user_id):
    completion = sdk(gateway, user_id).chat.completions.create(
        model="demo-echo-1", messages=MESSAGES
    )

    assert completion.choices[0].message.content == "You said: hello gateway"
    assert completion.usage.total_tokens == 6


def test_streaming_through_the_sdk_is_counted(gateway, user_id):
    stream = sdk(gateway, user_id).chat.completions.create(
        model="demo-echo-1",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: hello gateway"
    [row] = gateway.rows_for(user_id)
    assert row["tokens_est"] == chunks[-1].usage.total_tokens == 6


def test_missing_user_id_raises_bad_request(gateway):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(gateway, None).models.list()

    assert "X-User-ID" in caught.value.message
    assert caught.value.code == "missing_user_id"


def test_rate_limit_raises_rate_limit_error(gateway, user_id):
    client = sdk(gateway, user_id)
    minute = wait_for_room_in_this_minute(15)
    gateway.kv_put(f"rate:{user_id}:{minute}", "50")

    with pytest.raises(openai.RateLimitError) as caught:
        client.models.list()

    assert caught.value.code == "rate_limit_exceeded"


def test_codex_without_a_valid_key_raises_authentication_error(codex_gateway, user_id):
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(codex_gateway, user_id, api_key="ogw_not-a-key").models.list()

    assert caught.value.code == "invalid_api_key"


def test_upstream_timeout_raises_internal_server_error(gateway, user_id):
    client = sdk(gateway, user_id).with_options(
        default_headers={"X-User-ID": user_id, "X-Fake": "sleep:4000"}
    )

    with pytest.raises(openai.InternalServerError) as caught:
        client.models.list()

    assert caught.value.status_code == 504


def test_bad_configuration_raises_internal_server_error(workers, user_id):
    with pytest.raises(openai.InternalServerError) as caught:
        sdk(workers["misconfigured"], user_id).models.list()

    assert caught.value.code == "configuration_error"
    assert "AUTH_MODE" in caught.value.message
