"""The HTTP metrics middleware: pure ASGI, a few dictionary lookups and counter bumps a request.

Labels are the matched route's template (`/api/v1/posts/{post_id}`), read from the scope once
routing has run; a request no route matched is `<unmatched>`, and an unknown method `OTHER`,
so no client can grow the number of series.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet.core.request_context import route_template
from quartet.observability.metrics import (
    HTTP_DURATION,
    HTTP_IN_PROGRESS,
    HTTP_REQUESTS,
    REDIS_ROUND_TRIPS,
    UNMATCHED_ROUTE,
)
from quartet.stores.redis_round_trips import RoundTrips, round_trips_var

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Label children looked up once per (method, route, status): .labels() is the costly part
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._timings: dict[tuple[str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering
        trips = RoundTrips()
        trips_token = round_trips_var.set(trips)
        HTTP_IN_PROGRESS.inc()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_IN_PROGRESS.dec()
            round_trips_var.reset(trips_token)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_template(scope) or UNMATCHED_ROUTE
            self._observe(method, route, status, elapsed, trips.count)

    def _observe(self, method: str, route: str, status: int, elapsed: float, trips: int) -> None:
        counter = self._requests.get((method, route, status))
        if counter is None:
            counter = self._requests[(method, route, status)] = HTTP_REQUESTS.labels(
                method, route, str(status)
            )
        timings = self._timings.get((method, route))
        if timings is None:
            timings = self._timings[(method, route)] = (
                HTTP_DURATION.labels(method, route),
                REDIS_ROUND_TRIPS.labels(route),
            )
        counter.inc()
        timings[0].observe(elapsed)
        timings[1].observe(trips)
