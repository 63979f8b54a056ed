"""Auth dispatch: which credentials go upstream, and who may spend them.

- `openai`: the client's `Authorization` header passes through untouched.
- `codex`: the client proves who it is with its gateway key, sent as
  `Authorization: Bearer <key>`. KV holds only `gwkey:{user_id}` = SHA-256 hex
  of that key, compared in constant time. The stored OAuth token
  `oauth:{user_id}` then goes upstream as `X-Codex-Token`; the gateway key
  never leaves the gateway. A missing or wrong key, and a missing token,
  answer 401.

Keys are 256-bit random strings (scripts/provision_key.sh), so an unsalted
hash is enough: it cannot be reversed by guessing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from gateway.errors import InternalError, Unauthenticated
from gateway.events import emit

KEY_PREFIX = "gwkey:"
OAUTH_PREFIX = "oauth:"


def hash_key(key: str) -> str:
    """Return the stored form of a gateway key."""
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of a `Bearer` Authorization header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def key_matches(presented: str, stored_hash: str | None) -> bool:
    """Tell, in constant time, whether a presented key hashes to the stored hash."""
    expected = stored_hash or "0" * 64
    matched = hmac.compare_digest(hash_key(presented).encode(), expected.encode())
    return matched and stored_hash is not None


async def codex_token(
    kv, user_id: str, authorization: str | None, request_id: str = ""
) -> str:
    """Return the user's OAuth token once their gateway key checks out."""
    presented = bearer_token(authorization)
    if presented is None:
        raise Unauthenticated(
            "Send your gateway key as 'Authorization: Bearer <key>'.",
            code="missing_api_key",
        )
    try:
        stored_hash, token = await asyncio.gather(
            kv.get(KEY_PREFIX + user_id), kv.get(OAUTH_PREFIX + user_id)
        )
    except Exception as exc:
        emit(
            "warning",
            "kv_credentials_failed",
            request_id=request_id,
            user_id=user_id,
            error=type(exc).__name__,
        )
        raise InternalError("Could not read credentials; try again.") from exc
    if not key_matches(presented, stored_hash):
        raise Unauthenticated("The gateway key is not valid for this user.")
    token = str(token).strip() if token else ""
    if not token:
        raise Unauthenticated(
            "No upstream credentials are stored for this user.",
            code="missing_credentials",
        )
    return token
