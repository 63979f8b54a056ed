"""User ids, request ids, IP hashes and upstream paths."""

from __future__ import annotations

import hashlib

import pytest

from gateway.errors import InvalidRequest
from gateway.identity import hash_ip, parse_user_id, request_id_from, upstream_path


@pytest.mark.parametrize("user_id", ["alice", "a", "u" * 128, "bob.smith+x@corp-1_2"])
def test_safe_user_ids_are_accepted(user_id):
    assert parse_user_id(user_id) == user_id


@pytest.mark.parametrize(
    "value", [None, "", "u" * 129, "a:b", "a b", "a/b", "ä", "a\nb", "rate:x:1"]
)
def test_unsafe_user_ids_are_refused_with_400(value):
    with pytest.raises(InvalidRequest) as caught:
        parse_user_id(value)

    assert caught.value.status == 400


def test_a_long_user_id_is_not_echoed_back():
    with pytest.raises(InvalidRequest) as caught:
        parse_user_id("x" * 500)

    assert "x" * 129 not in caught.value.message


def test_ip_hash_is_the_first_8_hex_of_sha256():
    assert hash_ip("203.0.113.7") == hashlib.sha256(b"203.0.113.7").hexdigest()[:8]
    assert hash_ip(None) == ""


def test_request_ids_are_kept_when_well_formed_else_generated():
    assert request_id_from("abc-123:x.y_z") == "abc-123:x.y_z"
    generated = {request_id_from(bad) for bad in (None, "", "a b", "x" * 129)}
    assert len(generated) == 4
    assert all(value.startswith("req_") for value in generated)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/models/gpt-4.1"])
def test_ordinary_paths_pass(path):
    assert upstream_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "/v1/../admin",
        "/v1/./models",
        "/v1/%2e%2e/admin",
        "/v1/a%2Fb",
        "/v1/a%5Cb",
        "/v1/a\\b",
        "/v1/..;/admin",
        "/v1/%252e%252e/admin",
        "/v2/models",
        "/v1",
    ],
)
def test_paths_that_could_leave_v1_are_refused(path):
    with pytest.raises(InvalidRequest):
        upstream_path(path)
