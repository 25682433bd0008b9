"""The token check (and the caller's cached entries) in the request's one Redis round trip.

On a route that authenticates, `quartet.auth.dependencies.token_check_rider` reads the
bearer credential, verifies the token's signature and claims, and rides the request trip of
`quartet.core.request_trip` with the token's state commands (revocation, authorization
version, permission set, activity-session touch) and, for each `CallerCache(name)` on the
route, the caller's entry of the read-through cache. The principal dependency then decides
from those answers without asking Redis again. A token that does not verify, or a cookie
request failing the CSRF checks, rides nothing: the principal dependency refuses it as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Depends

from quartet.auth.service import AuthService
from quartet.auth.state_repository import TokenState
from quartet.auth.tokens import BearerClaims
from quartet.stores.cache import Cache

CacheName = Callable[[uuid.UUID], str]


class TokenCheck:
    """Rides the request trip: one bearer token's state and the caller's cache entries."""

    def __init__(
        self, token: str, claims: BearerClaims, service: AuthService, caches: Sequence[str]
    ) -> None:
        self.token = token
        self.claims = claims
        self.service = service
        self.cache_names = caches
        self.state: TokenState | None = None
        self._checks = 0

    def queue(self, pipe: Any) -> int:
        self._checks = self.service.queue_token_check(pipe, self.claims)
        cache: Cache = self.service.profiles.cache
        return self._checks + sum(cache.queue_read(pipe, name) for name in self.cache_names)

    def take(self, results: Sequence[Any]) -> None:
        checks = self._checks
        self.state = self.service.read_token_check(results[:checks], self.claims)
        cache: Cache = self.service.profiles.cache
        for index, name in enumerate(self.cache_names):
            cache.prefetch(name, results[checks + 2 * index : checks + 2 + 2 * index])

    def checked(self, token: str) -> tuple[BearerClaims, TokenState] | None:
        if token != self.token or self.state is None:
            return None
        return self.claims, self.state


def CallerCache(name: CacheName) -> Any:
    """Route marker: read the caller's cache entry `name(user_id)` in the request's round trip
    (the route's service then finds it without a round trip of its own)."""

    async def read_ahead() -> None:
        return None

    read_ahead.caller_cache = name  # type: ignore[attr-defined]  # found by the rider
    return Depends(read_ahead)
