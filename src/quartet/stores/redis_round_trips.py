"""Counting Redis round trips per request.

Every round trip (one command, or a whole pipeline; on a cluster, a pipeline's part for one
node) is one `send_packed_command` on a pooled connection, whoever issues it: the request's
one trip (rate limits and token check), a cache read, a health check. The counting class is
installed on the pool, and counts into whatever `RoundTrips` the current request set in
`round_trips_var` (nothing outside a request).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool


class RoundTrips:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


round_trips_var: ContextVar[RoundTrips | None] = ContextVar("redis_round_trips", default=None)

_counting_classes: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def counting_class(base: type[AbstractConnection]) -> type[AbstractConnection]:
    counting = _counting_classes.get(base)
    if counting is None:

        async def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
            trips = round_trips_var.get()
            if trips is not None:
                trips.count += 1
            await base.send_packed_command(self, command, check_health)

        counting = type(
            f"RoundTripCounting{base.__name__}",
            (base,),
            {"send_packed_command": send_packed_command},
        )
        _counting_classes[base] = counting
    return counting


def count_round_trips(pool: ConnectionPool) -> None:
    """Make the pool's future connections count their round trips (before any is made)."""
    pool.connection_class = counting_class(pool.connection_class)
