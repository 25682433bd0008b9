"""`ActivitySessionRepository`: the repository of the `session:{user_id}` activity hashes in Redis.

A hash holds `user_id`, `session_token` (256 bits, URL-safe; an identifier of this activity
session, never accepted as a credential), `login_time` and `last_active` (ISO-8601 UTC), plus
one `sid:<auth session id>` field per auth session that joined it (see `quartet.sessions`).

The key's `{user_id}` is a Redis Cluster hash tag: the user's auth-state keys carry the same one,
so the touch script may also read the token's revocation flag.

Every write sets the fields and the TTL atomically (a Lua script or a MULTI/EXEC pipeline), so
no client ever sees the hash without a TTL, and a touch racing a delete cannot leave a partial
hash behind: the touch script refreshes only a hash that exists. Scripts go as EVAL, not
EVALSHA: inside a pipeline that needs no SCRIPT EXISTS round trip and survives a SCRIPT FLUSH or
a restart (Redis caches the compiled script either way).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from quartet.auth.activity_sessions import ActivitySessions
from quartet.core.clock import utcnow
from quartet.core.security import new_opaque_token
from quartet.settings import Settings
from quartet.stores.redis import RedisClient

FIELDS = ("user_id", "session_token", "login_time", "last_active")

# KEYS: hash [, a key whose presence forbids the touch]. ARGV: now, TTL, member field that must
# be present ('' for none). Returns the four fields after the touch, or an empty list when
# there is nothing to touch.
_TOUCH = """
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then return {} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'last_active', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HMGET', KEYS[1], 'user_id', 'session_token', 'login_time', 'last_active')
"""

# KEYS: hash. ARGV: user id, token, now, TTL, member field ('' for none). 1 created, 0 exists.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user_id', ARGV[1], 'session_token', ARGV[2],
           'login_time', ARGV[3], 'last_active', ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], ARGV[5], ARGV[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


@dataclass(frozen=True)
class ActivitySession:
    user_id: uuid.UUID
    session_token: str
    login_time: datetime
    last_active: datetime
    ttl_seconds: int


def _member(auth_session_id: uuid.UUID | str | None) -> str:
    return f"sid:{auth_session_id}" if auth_session_id else ""


class ActivitySessionRepository(ActivitySessions):
    """Create, read, touch and delete activity sessions; Redis expires idle ones by itself.
    Derives from auth's protocol so mypy checks it is what auth asks for."""

    def __init__(self, redis: RedisClient, key_prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls, redis: RedisClient, settings: Settings) -> ActivitySessionRepository:
        return cls(redis, settings.REDIS_KEY_PREFIX, settings.SESSION_TTL_SECONDS)

    def key(self, user_id: uuid.UUID | str) -> str:
        return f"{self.key_prefix}session:{{{user_id}}}"

    def _parse(self, values: Sequence[str | None], ttl: int) -> ActivitySession | None:
        user_id, token, login_time, last_active = values
        if user_id is None or token is None or login_time is None or last_active is None:
            return None
        return ActivitySession(
            uuid.UUID(user_id),
            token,
            datetime.fromisoformat(login_time),
            datetime.fromisoformat(last_active),
            ttl,
        )

    async def create(
        self, user_id: uuid.UUID, auth_session_id: uuid.UUID | None = None
    ) -> ActivitySession | None:
        """A new session with a fresh token; None when the user already has a live one."""
        now, token = utcnow(), new_opaque_token()
        created = await self.redis.eval(
            _CREATE,
            1,
            self.key(user_id),
            str(user_id),
            token,
            now.isoformat(),
            self.ttl_seconds,
            _member(auth_session_id),
        )
        if not int(created):
            return None
        return ActivitySession(user_id, token, now, now, self.ttl_seconds)

    async def start(self, user_id: uuid.UUID, auth_session_id: uuid.UUID) -> None:
        """At login: create the session, or refresh a live one keeping its token and
        `login_time`; either way the auth session joins it. One MULTI/EXEC."""
        key, now = self.key(user_id), utcnow().isoformat()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "user_id", str(user_id))
            pipe.hsetnx(key, "session_token", new_opaque_token())
            pipe.hsetnx(key, "login_time", now)
            pipe.hset(key, mapping={"last_active": now, _member(auth_session_id): now})
            pipe.expire(key, self.ttl_seconds)
            await pipe.execute()

    async def get(self, user_id: uuid.UUID) -> ActivitySession | None:
        """The session and its remaining TTL, read in one MULTI/EXEC; None when expired."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self.key(user_id), list(FIELDS))
            pipe.ttl(self.key(user_id))
            values, ttl = await pipe.execute()
        return self._parse(values, int(ttl))

    def queue_touch(
        self,
        pipe: RedisClient,
        user_id: uuid.UUID | str,
        auth_session_id: uuid.UUID | str | None = None,
        unless_exists: str | None = None,
    ) -> None:
        """Add a touch to another repository's pipeline (the token check's one round trip);
        read its result with `touched`. With `auth_session_id`, only a session that auth
        session belongs to is touched; with `unless_exists` (a revoked token's flag), nothing
        is touched while that key exists."""
        keys = [self.key(user_id), *([unless_exists] if unless_exists else [])]
        pipe.eval(
            _TOUCH,
            len(keys),
            *keys,
            utcnow().isoformat(),
            self.ttl_seconds,
            _member(auth_session_id),
        )

    def touched(self, result: Sequence[str | None]) -> ActivitySession | None:
        return self._parse(result, self.ttl_seconds) if result else None

    async def touch(
        self, user_id: uuid.UUID, auth_session_id: uuid.UUID | None = None
    ) -> ActivitySession | None:
        """Refresh `last_active` and the TTL of a live session; None when there is none (a
        touch never re-creates an expired session)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            self.queue_touch(pipe, user_id, auth_session_id)
            (result,) = await pipe.execute()
        return self.touched(result)

    async def delete(self, user_id: uuid.UUID) -> None:
        await self.redis.unlink(self.key(user_id))
