"""Auth state in Redis: revoked sessions, authorization versions, the permission sets of
access tokens, and login lockout.

Checking a bearer token costs one round trip: a pipeline of GETs (its session's revocation
flag, its user's authorization version and, for an access token, the user's permission set at
the token's version) and the touch of the user's activity session (`quartet.sessions`). Any
Redis error propagates, so authentication fails closed (503).

Every key of one user shares the hash tag `{<user id>}` (the activity session's too), so the
token check's MGET and touch script stay in one Redis Cluster slot. A revocation is
acknowledged only once REDIS_REVOCATION_REPLICAS replicas hold it (`WAIT`), so a failover
cannot bring a revoked token back.

An authorization version only ever rises (`raise_authz_versions`, a compare-and-set script), so
a login or refresh that read an older version can never lower what a concurrent change wrote.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quartet.auth.activity_sessions import ActivitySessions
from quartet.stores.redis import RedisClient, check_replicated, queue_replication_wait

# KEYS: the version key. ARGV: the version it must reach (never lowered).
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


@dataclass(frozen=True)
class TokenState:
    revoked: bool
    authz_version: int
    active: bool
    """The activity session was live (and, when required, the auth session belonged to it)."""
    permissions: frozenset[str] | None = None
    """The cached permission set asked for (None when not asked for, or not cached)."""


def _encode_permissions(codenames: frozenset[str]) -> str:
    return " ".join(sorted(codenames))


def _decode_permissions(value: str | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value.split())


class AuthStateRepository:
    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def revoked_key(self, user_id: uuid.UUID | str, session_id: uuid.UUID | str) -> str:
        return f"{self.prefix}auth:revoked:{{{user_id}}}:{session_id}"

    def _authz(self, user_id: uuid.UUID | str) -> str:
        return f"{self.prefix}auth:authz:{{{user_id}}}"

    def _permissions(self, user_id: uuid.UUID | str, version: int) -> str:
        return f"{self.prefix}auth:perms:{{{user_id}}}:{version}"

    def _lock_key(self, identifier: str, kind: str) -> str:
        """The counter and the lock of one identifier share a hash slot (one MULTI)."""
        digest = hashlib.sha256(identifier.encode()).hexdigest()
        return f"{self.prefix}auth:lockout:{{{digest}}}:{kind}"

    async def token_state(
        self,
        session_id: str,
        user_id: str,
        activity: ActivitySessions,
        *,
        require_member: bool,
        permissions_at: int | None = None,
    ) -> TokenState:
        """Revocation state, touching the activity session in the same round trip unless the
        token is revoked (with `require_member`, only if this auth session belongs to it);
        with `permissions_at`, also the user's cached permission set at that version."""
        async with self.redis.pipeline(transaction=False) as pipe:
            self.queue_token_state(
                pipe,
                session_id,
                user_id,
                activity,
                require_member=require_member,
                permissions_at=permissions_at,
            )
            results = await pipe.execute()
        return self.read_token_state(results, activity, permissions_at=permissions_at)

    def queue_token_state(
        self,
        pipe: RedisClient,
        session_id: str,
        user_id: str,
        activity: ActivitySessions,
        *,
        require_member: bool,
        permissions_at: int | None = None,
    ) -> int:
        """`token_state`'s commands on someone's pipeline (the request's one round trip);
        returns how many were queued. Read their answers with `read_token_state`."""
        revoked_key = self.revoked_key(user_id, session_id)
        keys = [revoked_key, self._authz(user_id)]
        if permissions_at is not None:
            keys.append(self._permissions(user_id, permissions_at))
        for key in keys:  # GETs, not an MGET: a cluster pipeline refuses multi-key commands
            pipe.get(key)
        activity.queue_touch(
            pipe, user_id, session_id if require_member else None, unless_exists=revoked_key
        )
        return len(keys) + 1

    @staticmethod
    def read_token_state(
        results: Sequence[Any], activity: ActivitySessions, *, permissions_at: int | None
    ) -> TokenState:
        revoked, version, *rest = results
        touched = rest[-1]
        return TokenState(
            revoked is not None,
            int(version) if version is not None else 0,
            activity.touched(touched) is not None,
            _decode_permissions(rest[0]) if permissions_at is not None else None,
        )

    async def revoke_sessions(
        self, user_id: uuid.UUID, session_ids: Sequence[uuid.UUID], ttl_seconds: int
    ) -> None:
        """Remember revocations of the user's sessions for as long as any of their tokens could
        still live; with REDIS_REVOCATION_REPLICAS, only once replicas hold them."""
        if not session_ids:
            return
        keys = [self.revoked_key(user_id, sid) for sid in session_ids]
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, "1", ex=ttl_seconds)
            waited = await queue_replication_wait(self.redis, pipe, keys[0])
            results = await pipe.execute()
        if waited:
            check_replicated(self.redis, results[-1])

    async def authz_version(self, user_id: uuid.UUID) -> int:
        value = await self.redis.get(self._authz(user_id))
        return int(value) if value is not None else 0

    async def raise_authz_versions(self, versions: Mapping[uuid.UUID, int]) -> None:
        """Refuse every token minted before these versions (each key only ever rises)."""
        if not versions:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id, version in versions.items():
                pipe.eval(_RAISE, 1, self._authz(user_id), str(version))
            await pipe.execute()

    async def publish_grant(
        self, user_id: uuid.UUID, version: int, permissions: frozenset[str], ttl_seconds: int
    ) -> None:
        """The version tokens are being minted at, and the permission set access tokens of that
        version resolve to (kept as long as such a token lives)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.eval(_RAISE, 1, self._authz(user_id), str(version))
            pipe.set(
                self._permissions(user_id, version),
                _encode_permissions(permissions),
                ex=ttl_seconds,
            )
            await pipe.execute()

    async def retire_user(self, user_id: uuid.UUID, ttl_seconds: int) -> None:
        """An erased account: its authorisation version keeps refusing old tokens for as long
        as any could live, then expires (set once; a rerun does not extend it)."""
        await self.redis.expire(self._authz(user_id), ttl_seconds, nx=True)

    def lockout_keys(self, identifier: str) -> list[str]:
        """The failure counter and lock of `identifier` (what erasing an account deletes)."""
        return [self._lock_key(identifier, "fails"), self._lock_key(identifier, "locked")]

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
            pipe.execute_command("DEL", fails_key)  # a cluster pipeline does not queue .delete()
            await pipe.execute()
        return True

    async def reset_failures(self, identifier: str) -> None:
        await self.redis.delete(self._lock_key(identifier, "fails"))
