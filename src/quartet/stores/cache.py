"""A small read-through cache on Redis: JSON values with a TTL, every key under one namespace.

`{REDIS_KEY_PREFIX}cache:` holds the cache and nothing else, so the whole cache can be dropped
(SCAN + UNLINK of that namespace, see `quartet.cache`) while sessions, revocations, rate limits
and lockouts survive.

The cache fails open: a Redis error turns a read into a miss that goes to the source, and an
invalidation or fill into a no-op, so a cache outage never fails a request. The first failure
is logged once as a warning, and the recovery once at info, never once per request.

Fills are guarded against the invalidation race (a reader loads the old row, a writer commits
and invalidates, then the reader stores the old row for a whole TTL): every entry has a
generation key that `invalidate` replaces, and a fill is stored only if the generation is still
the one the reader saw before loading. Writers call `invalidate` after their commit.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from quartet.settings import Settings
from quartet.stores.redis import RedisClient

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# KEYS: value, generation. ARGV: generation seen before loading ('' for none), JSON, TTL.
_FILL_IF_CURRENT = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
_prefetched: ContextVar[dict[str, tuple[str | None, str | None]] | None] = ContextVar(
    "cache_prefetched", default=None
)
"""Entries read ahead in the request's one Redis round trip (`Cache.queue_read`): the value
and the generation seen, consumed by the request's first `get_or_load` of that name."""

GENERATION_GRACE_SECONDS = 60
"""A generation outlives its entry by this much, longer than any read takes to load."""


def cache_namespace(key_prefix: str) -> str:
    return f"{key_prefix}cache:"


@dataclass
class CacheCounters:
    """This process's cache traffic (Redis's own keyspace_hits/misses cover every key)."""

    hits: int = 0
    misses: int = 0
    errors: int = 0


class Cache:
    """One per process (it keeps the counters and the "Redis is failing" state)."""

    def __init__(self, redis: RedisClient, key_prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.namespace = cache_namespace(key_prefix)
        self.ttl_seconds = ttl_seconds
        self.counters = CacheCounters()
        self.failing = False

    @classmethod
    def from_settings(cls, redis: RedisClient, settings: Settings) -> Cache:
        return cls(redis, settings.REDIS_KEY_PREFIX, settings.CACHE_TTL_SECONDS)

    def key(self, name: str) -> str:
        return f"{self.namespace}{{{name}}}"

    def _generation_key(self, name: str) -> str:
        """In the value's hash slot (`{name}` is the tag), for the fill script."""
        return f"{self.namespace}{{{name}}}|gen"

    async def get_or_load(
        self, name: str, model: type[M], load: Callable[[], Awaitable[M | None]]
    ) -> M | None:
        """The cached `model` under `name`, else `load()` (stored unless it is None)."""
        key, generation = self.key(name), self._generation_key(name)
        prefetched = _prefetched.get()
        read_ahead = prefetched.pop(key, None) if prefetched is not None else None
        if read_ahead is not None:
            cached, seen = read_ahead
        else:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    self.queue_read(pipe, name)
                    cached, seen = await pipe.execute()
            except Exception as error:  # any cache failure reads through to the source
                self._failed(error)
                return await load()
        self._recovered()
        if cached is not None:
            try:
                value = model.model_validate_json(cached)
            except ValidationError:
                pass  # an entry of an older shape: reload and overwrite it
            else:
                self.counters.hits += 1
                return value
        self.counters.misses += 1
        loaded = await load()
        if loaded is not None:
            await self._fill(key, generation, seen or "", loaded.model_dump_json())
        return loaded

    def queue_read(self, pipe: RedisClient, name: str) -> int:
        """The reads of `name` on a pipeline (2 commands); see `prefetch`."""
        pipe.get(self.key(name))
        pipe.get(self._generation_key(name))
        return 2

    def prefetch(self, name: str, results: Sequence[str | None]) -> None:
        """Answers of `queue_read` made in the request's round trip, for this request's
        `get_or_load(name)`."""
        prefetched = _prefetched.get()
        if prefetched is None:
            prefetched = {}
            _prefetched.set(prefetched)
        prefetched[self.key(name)] = (results[0], results[1])

    async def _fill(self, key: str, generation: str, seen: str, payload: str) -> None:
        try:
            await self.redis.eval(
                _FILL_IF_CURRENT, 2, key, generation, seen, payload, self.ttl_seconds
            )
        except Exception as error:
            self._failed(error)

    async def invalidate(self, name: str) -> None:
        """Drop `name` and start a new generation, so a fill already in flight is discarded."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(
                    self._generation_key(name),
                    secrets.token_hex(8),
                    ex=self.ttl_seconds + GENERATION_GRACE_SECONDS,
                )
                pipe.execute_command("UNLINK", self.key(name))  # nor .unlink() (cluster)
                await pipe.execute()
        except Exception as error:
            self._failed(error)
        else:
            self._recovered()

    def _failed(self, error: Exception) -> None:
        self.counters.errors += 1
        if not self.failing:
            self.failing = True
            logger.warning("cache unavailable, reading through to the source: %r", error)

    def _recovered(self) -> None:
        if self.failing:
            self.failing = False
            logger.info("cache available again")


async def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


CacheDep = Annotated[Cache, Depends(get_cache)]
