"""Gateway keys: bearer parsing and constant-time hash checks."""

from __future__ import annotations

import hashlib

from gateway.auth import bearer_token, hash_key, key_matches


def test_hash_key_is_sha256_hex():
    assert hash_key("ogw_abc") == hashlib.sha256(b"ogw_abc").hexdigest()


def test_bearer_token_parsing():
    assert bearer_token("Bearer ogw_abc") == "ogw_abc"
    assert bearer_token("bearer   ogw_abc ") == "ogw_abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


def test_key_matches_only_its_own_hash():
    stored = hash_key("ogw_right")

    assert key_matches("ogw_right", stored)
    assert not key_matches("ogw_wrong", stored)
    assert not key_matches("ogw_right", None)
    assert not key_matches("ogw_right", "not-a-hash-é")
