"""Moving-window rate limits on Redis through the `limits` library.

`RateLimit(scope, per_minute)` is a route dependency: it counts the caller (see `client_ip`)
and answers 429 in the error format with Retry-After and X-RateLimit-* headers, which it also
sets on allowed responses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request, Response
from limits import RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from quartet.core.client import client_ip
from quartet.core.errors import RateLimitedError
from quartet.observability.metrics import count_rate_limit_refusal
from quartet.settings import Settings


class RateLimiter:
    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, scope: str, per_minute: int, caller: str) -> tuple[bool, int, float]:
        """Count one request; return (allowed, remaining, reset time as epoch seconds)."""
        item = RateLimitItemPerMinute(per_minute)
        allowed = await self._limiter.hit(item, scope, caller)
        stats = await self._limiter.get_window_stats(item, scope, caller)
        return allowed, stats.remaining, stats.reset_time


def RateLimit(scope: str, per_minute: Callable[[Settings], int]) -> Any:
    """A dependency limiting `scope` to `per_minute(settings)` requests per client."""

    async def limit(request: Request, response: Response) -> None:
        settings: Settings = request.app.state.settings
        limiter: RateLimiter = request.app.state.stores.rate_limiter
        quota = per_minute(settings)
        caller = client_ip(request, settings.TRUSTED_PROXIES)
        allowed, remaining, reset = await limiter.hit(scope, quota, caller)
        headers = {
            "X-RateLimit-Limit": str(quota),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if not allowed:
            count_rate_limit_refusal(scope)
            retry_after = min(60, max(1, math.ceil(reset - time.time())))
            raise RateLimitedError(
                f"Rate limit of {quota} per minute exceeded; retry in {retry_after}s",
                headers={**headers, "Retry-After": str(retry_after)},
            )
        response.headers.update(headers)

    return Depends(limit)


GlobalRateLimit = RateLimit("global", lambda s: s.RATE_LIMIT_PER_MINUTE)
AuthRateLimit = RateLimit("auth", lambda s: s.AUTH_RATE_LIMIT_PER_MINUTE)
