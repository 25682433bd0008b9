"""The request's store deadline: one instant by which every store call of a request must be done.

`StoreDeadlineMiddleware` sets it when a request starts (`STORE_DEADLINE_SECONDS` later). Each
store reads what is left of it: MongoDB through PyMongo's client-side operation timeout (which
also bounds `with_transaction`'s retries), Cassandra and Redis per call, PostgreSQL's retry loop
before each new attempt (its round trips are bounded by half the deadline each, see
`postgres.create_engine`). A store that cannot answer in time raises its own timeout error,
which the error handlers turn into 503 `store_unavailable` naming it. Outside a request (CLI,
background writer) there is no deadline and each driver's own timeouts apply.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

import pymongo
from starlette.types import ASGIApp, Receive, Scope, Send

_deadline: ContextVar[float | None] = ContextVar("quartet_store_deadline", default=None)


def remaining() -> float | None:
    """Seconds left before the current request's store deadline (may be negative), or None
    outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def bounded(timeout: float) -> float:
    """`timeout`, shortened to what is left of the request's deadline (never below zero)."""
    left = remaining()
    return timeout if left is None else max(0.0, min(timeout, left))


class StoreDeadlineMiddleware:
    """Starts the clock of every HTTP request's store work (pure ASGI, no task per request)."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _deadline.set(time.monotonic() + self.seconds)
        try:
            with pymongo.timeout(self.seconds):
                await self.app(scope, receive, send)
        finally:
            _deadline.reset(token)
