"""Sliding-window rate limits on Redis, in a Lua script the project owns.

`RateLimit(scope, per_minute)` is a route dependency: it counts the caller (see `client_ip`)
and answers 429 in the error format with Retry-After and X-RateLimit-* headers, which it also
sets on allowed responses. Every limit of a route (the global one and, on auth flows, the auth
one) is hit in the request's ONE Redis round trip (`quartet.core.request_trip`), together with
what the route's other dependencies asked for (the token check).

The window is an exact sliding log: one sorted set per caller and scope, scored by the time of
each allowed hit (Redis's own clock, so every worker agrees). A hit is allowed while fewer than
the limit are younger than 60 s; a refused hit is not recorded, so the window reopens 60 s
after its oldest hit. Limits are checked in order and the first refusal stops the script, so a
request refused by the global limit spends nothing of the auth one. The caller is the keys'
hash tag, so the one script touches one Redis Cluster slot whatever the limits.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from quartet.core.client import client_ip
from quartet.core.domain_events import domain_events_of
from quartet.core.errors import RateLimitedError, responses
from quartet.core.request_trip import request_trip
from quartet.settings import Settings

WINDOW_MS = 60_000

# KEYS: one sorted set per limit, in the order checked. ARGV: the window in ms, a nonce unique
# to this call, then each key's limit. Returns {allowed (1/0), remaining, reset in epoch ms}
# per limit checked, stopping after the first refusal.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  local allowed = 0
  if count < limit then
    redis.call('ZADD', key, now, now .. ':' .. ARGV[2] .. ':' .. i)
    redis.call('PEXPIRE', key, window)
    count = count + 1
    allowed = 1
  end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local reset = now + window
  if oldest[2] then reset = tonumber(oldest[2]) + window end
  out[i] = {allowed, limit - count, reset, now}
  if allowed == 0 then return out end
end
return out
"""
SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW.encode()).hexdigest()  # noqa: S324 (Redis's name)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int
    now_ms: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_ms / 1000)),
        }

    def refusal(self) -> RateLimitedError:
        retry_after = min(60, max(1, math.ceil((self.reset_ms - self.now_ms) / 1000)))
        return RateLimitedError(
            f"Rate limit of {self.limit} per minute exceeded; retry in {retry_after}s",
            headers={**self.headers(), "Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class RateLimitRefused:
    """Announced on every 429 this module answers (the metrics count it by scope)."""

    scope: str


@dataclass(frozen=True)
class LimitHit:
    """One limit to hit in a request's round trip."""

    scope: str
    limit: int
    caller: str


class RateLimiter:
    """Queues hits into a pipeline and reads their verdicts (one EVALSHA for all of them: the
    script's text goes to Redis once, by `load`, when Redis answers that it does not know it)."""

    def __init__(self, key_prefix: str) -> None:
        self.prefix = f"{key_prefix}ratelimit:"
        self._nonce = f"{secrets.token_hex(6)}:"
        self._calls = itertools.count()

    def key(self, hit: LimitHit) -> str:
        return f"{self.prefix}{{{hit.caller}}}:{hit.scope}"

    def queue(self, pipe: Any, hits: Sequence[LimitHit]) -> None:
        nonce = f"{self._nonce}{next(self._calls)}"
        limits = [str(hit.limit) for hit in hits]
        # As a plain command: redis-py refuses `evalsha` on a cluster pipeline (it cannot load a
        # missing script there); the trip loads it itself (`load`) on NOSCRIPT.
        pipe.execute_command(
            "EVALSHA",
            SLIDING_WINDOW_SHA,
            len(hits),
            *(self.key(hit) for hit in hits),
            WINDOW_MS,
            nonce,
            *limits,
        )

    @staticmethod
    async def load(redis: Any) -> None:
        """Teach Redis the script (after a restart or a SCRIPT FLUSH; every master of a
        cluster)."""
        await redis.script_load(SLIDING_WINDOW)

    @staticmethod
    def verdicts(hits: Sequence[LimitHit], result: Sequence[Sequence[int]]) -> dict[str, Verdict]:
        """The verdict of each limit the script reached (those after a refusal are absent)."""
        return {
            hit.scope: Verdict(bool(allowed), hit.limit, int(remaining), int(reset), int(now))
            for hit, (allowed, remaining, reset, now) in zip(hits, result, strict=False)
        }


@dataclass(frozen=True)
class LimitSpec:
    """What `RateLimit` declares on a route (found by the request trip in the route's tree)."""

    scope: str
    per_minute: Callable[[Settings], int]

    def hit(self, request: Request, settings: Settings) -> LimitHit:
        return LimitHit(
            self.scope, self.per_minute(settings), client_ip(request, settings.TRUSTED_PROXIES)
        )


def RateLimit(scope: str, per_minute: Callable[[Settings], int]) -> Any:
    """A dependency limiting `scope` to `per_minute(settings)` requests per client."""
    spec = LimitSpec(scope, per_minute)

    async def limit(request: Request, response: Response) -> None:
        trip = await request_trip(request, spec)
        verdict = trip.verdict(scope)
        if verdict is None:  # a limit the trip did not know of (declared above the route)
            verdict = await trip.hit_alone(spec)
        if not verdict.allowed:
            domain_events_of(request).publish(RateLimitRefused(scope))
            raise verdict.refusal()
        response.headers.update(verdict.headers())

    limit.rate_limit = spec  # type: ignore[attr-defined]  # found by the request trip
    return Depends(limit)


GlobalRateLimit = RateLimit("global", lambda s: s.RATE_LIMIT_PER_MINUTE)
AuthRateLimit = RateLimit("auth", lambda s: s.AUTH_RATE_LIMIT_PER_MINUTE)


def auth_limited_router(**options: Any) -> APIRouter:
    """A router whose every route also spends the auth budget (login, registration, one-time
    codes, social login) and declares its 429."""
    return APIRouter(dependencies=[AuthRateLimit], responses=responses(RateLimitedError), **options)
