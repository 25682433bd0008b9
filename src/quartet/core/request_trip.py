"""ONE Redis round trip for everything a request's dependencies need from Redis.

The first rate-limit dependency of a route (`quartet.core.rate_limit.RateLimit`) runs the trip:
one pipeline holding the sliding-window script for every limit declared on the route, then the
commands of each *rider* the app registered (`install_riders`) that has something to ask for
this request, such as the token check of `quartet.auth.request_state` (revocation,
authorization version, permission set, activity-session touch) and the caller's cached
profile. Later dependencies read their answers from the trip instead of asking Redis again.

What a route declares is found by walking its dependency tree once (cached per route). Any
Redis error propagates from the trip, so every dependency relying on it fails closed (503).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from redis.exceptions import NoScriptError

if TYPE_CHECKING:
    from quartet.core.rate_limit import LimitHit, LimitSpec, Verdict

_TRIP = "quartet.request_trip"


class Rider(Protocol):
    """Commands some dependency wants in the request's trip, and where their answers go."""

    def queue(self, pipe: Any) -> int:
        """Queue commands on the pipeline; return how many."""

    def take(self, results: Sequence[Any]) -> None:
        """The answers to exactly the commands queued."""


@dataclass(frozen=True)
class RoutePlan:
    """What a route's dependency tree declares: its limits and every callable in it."""

    limits: tuple[LimitSpec, ...]
    calls: frozenset[Any]

    def marked(self, attribute: str) -> Iterator[Any]:
        """The values of `attribute` on the tree's callables that carry it."""
        for call in self.calls:
            value = getattr(call, attribute, None)
            if value is not None:
                yield value


RiderFactory = Callable[[Request, RoutePlan], Awaitable[Rider | None]]
R = TypeVar("R")


def install_riders(app: FastAPI, *factories: RiderFactory) -> None:
    app.state.trip_riders = [*getattr(app.state, "trip_riders", ()), *factories]


_PLAN = "_quartet_trip_plan"


def _walk(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _walk(sub)


def route_plan(route: Any) -> RoutePlan:
    """The route's plan, made on its first request and kept on the route (routes are not
    hashable, and live as long as their app)."""
    plan: RoutePlan | None = getattr(route, _PLAN, None)
    if plan is None:
        dependant = getattr(route, "dependant", None)
        calls = list(_walk(dependant)) if dependant is not None else []
        limits: list[LimitSpec] = []
        for call in calls:
            spec = getattr(call, "rate_limit", None)
            if spec is not None and spec not in limits:
                limits.append(spec)
        plan = RoutePlan(tuple(limits), frozenset(calls))
        if route is not None:
            setattr(route, _PLAN, plan)
    return plan


class RequestTrip:
    def __init__(self, request: Request, verdicts: dict[str, Verdict], riders: list[Rider]):
        self._request = request
        self._verdicts = verdicts
        self._riders = riders

    def verdict(self, scope: str) -> Verdict | None:
        return self._verdicts.get(scope)

    def rider(self, kind: type[R]) -> R | None:
        return next((r for r in self._riders if isinstance(r, kind)), None)

    async def hit_alone(self, spec: LimitSpec) -> Verdict:
        """A limit the trip did not carry, in a round trip of its own."""
        verdicts, _ = await _run(self._request, [spec], [])
        self._verdicts.update(verdicts)
        return verdicts[spec.scope]


def current_trip(request: Request) -> RequestTrip | None:
    """The trip this request already made, if any."""
    trip: RequestTrip | None = request.scope.get(_TRIP)
    return trip


async def request_trip(request: Request, first: LimitSpec) -> RequestTrip:
    """The request's trip, made now (with `first` checked first) unless it was made already."""
    trip = current_trip(request)
    if trip is not None:
        return trip
    plan = route_plan(request.scope.get("route"))
    specs = [first, *(spec for spec in plan.limits if spec.scope != first.scope)]
    factories: list[RiderFactory] = getattr(request.app.state, "trip_riders", [])
    riders = [rider for make in factories if (rider := await make(request, plan)) is not None]
    verdicts, riders = await _run(request, specs, riders)
    trip = RequestTrip(request, verdicts, riders)
    request.scope[_TRIP] = trip
    return trip


async def _run(
    request: Request, specs: Sequence[LimitSpec], riders: list[Rider]
) -> tuple[dict[str, Verdict], list[Rider]]:
    stores = request.app.state.stores
    settings = stores.settings
    hits = [spec.hit(request, settings) for spec in specs]
    try:
        results, counts = await _execute(stores, hits, riders)
    except NoScriptError:  # a Redis that lost its scripts: no hit was counted, so run it again
        await stores.rate_limiter.load(stores.redis)
        results, counts = await _execute(stores, hits, riders)
    offset = 1
    for rider, count in zip(riders, counts, strict=True):
        rider.take(results[offset : offset + count])
        offset += count
    return stores.rate_limiter.verdicts(hits, results[0]), riders


async def _execute(
    stores: Any, hits: Sequence[LimitHit], riders: list[Rider]
) -> tuple[list[Any], list[int]]:
    """The trip's one pipeline: the limits first, then each rider's commands."""
    async with stores.redis.pipeline(transaction=False) as pipe:
        stores.rate_limiter.queue(pipe, hits)
        counts = [rider.queue(pipe) for rider in riders]
        results: list[Any] = await pipe.execute()
    return results, counts
