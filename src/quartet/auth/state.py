"""Auth state in Redis: revoked sessions, authorization versions and login lockout.

Checking a bearer token costs one round trip: a pipeline of `MGET` (its session's revocation
flag and its user's authorization version) and the touch of the user's activity session
(`quartet.sessions`). Any Redis error propagates, so authentication fails closed (503).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from quartet.sessions.repository import SessionManager
from quartet.stores.redis import RedisClient


@dataclass(frozen=True)
class TokenState:
    revoked: bool
    authz_version: int
    active: bool
    """The activity session was live (and, when required, the auth session belonged to it)."""


class AuthStateRepository:
    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _revoked(self, session_id: uuid.UUID | str) -> str:
        return f"{self.prefix}auth:revoked:{session_id}"

    def _authz(self, user_id: uuid.UUID | str) -> str:
        return f"{self.prefix}auth:authz:{user_id}"

    def _lock_key(self, identifier: str, kind: str) -> str:
        digest = hashlib.sha256(identifier.encode()).hexdigest()
        return f"{self.prefix}auth:lockout:{kind}:{digest}"

    async def token_state(
        self, session_id: str, user_id: str, activity: SessionManager, *, require_member: bool
    ) -> TokenState:
        """Revocation state, touching the activity session in the same round trip unless the
        token is revoked (with `require_member`, only if this auth session belongs to it)."""
        revoked_key = self._revoked(session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.mget(revoked_key, self._authz(user_id))
            activity.queue_touch(
                pipe, user_id, session_id if require_member else None, unless_exists=revoked_key
            )
            (revoked, version), touched = await pipe.execute()
        return TokenState(
            revoked is not None,
            int(version) if version is not None else 0,
            activity.touched(touched) is not None,
        )

    async def revoke_sessions(self, session_ids: Sequence[uuid.UUID], ttl_seconds: int) -> None:
        """Remember revocations for as long as any token of those sessions could still live."""
        if not session_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.set(self._revoked(sid), "1", ex=ttl_seconds)
            await pipe.execute()

    async def set_authz_version(self, user_id: uuid.UUID, version: int) -> None:
        await self.redis.set(self._authz(user_id), str(version))

    async def locked_for(self, identifier: str) -> int:
        """Seconds left on the identifier's lockout (0 when not locked)."""
        ttl = await self.redis.ttl(self._lock_key(identifier, "locked"))
        return max(int(ttl), 0)

    async def register_failure(self, identifier: str, threshold: int, lock_seconds: int) -> bool:
        """Count a failed login; lock the identifier when the threshold is reached."""
        fails_key = self._lock_key(identifier, "fails")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(fails_key)
            pipe.expire(fails_key, lock_seconds)
            count, _ = await pipe.execute()
        if int(count) < threshold:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._lock_key(identifier, "locked"), "1", ex=lock_seconds)
            pipe.delete(fails_key)
            await pipe.execute()
        return True

    async def reset_failures(self, identifier: str) -> None:
        await self.redis.delete(self._lock_key(identifier, "fails"))
