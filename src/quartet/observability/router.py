"""Admin endpoints: database metrics and query analytics (under the API prefix), detailed
store health, process status, system health and the Sentry test error (under /health).

Permissions (see `permissions.py`): reads need `monitoring.read`, the reset and the Sentry
test `monitoring.manage` (`RequirePermission`; superusers hold both).
Query figures are the answering worker's (its `pid` is in the answer); /metrics sums workers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from quartet.auth.tokens import Principal
from quartet.core.errors import (
    InternalError,
    RateLimitedError,
    StoreUnavailableError,
    responses,
)
from quartet.core.rate_limit import GlobalRateLimit
from quartet.observability import service
from quartet.observability.permissions import MONITORING_MANAGE, MONITORING_READ
from quartet.observability.runtime import Observability
from quartet.observability.schemas import (
    DatabaseMetricsOut,
    DetailedHealthOut,
    QueriesOut,
    QueriesQuery,
    ResetIn,
    ResetOut,
    SlowQueriesOut,
    SlowQueriesQuery,
    StatusOut,
    SystemOut,
)
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission
from quartet.stores.dependencies import StoresDep

_GUARDED = responses(*PERMISSION_ERRORS, StoreUnavailableError)


async def get_observability(request: Request) -> Observability:
    observability: Observability = request.app.state.observability
    return observability


ObservabilityDep = Annotated[Observability, Depends(get_observability)]

router = APIRouter(
    tags=["observability"],
    dependencies=[GlobalRateLimit],
    responses={**_GUARDED, **responses(RateLimitedError)},
)
Reader = Annotated[Principal, RequirePermission(MONITORING_READ)]
Manager = Annotated[Principal, RequirePermission(MONITORING_MANAGE)]

health_router = APIRouter(prefix="/health", tags=["health"], responses=_GUARDED)


@router.get(
    "/metrics/database",
    summary="Per store: pool state, statement totals, error rate, p50/p95/p99 (monitoring.read)",
)
async def database_metrics(_: Reader, stores: StoresDep) -> DatabaseMetricsOut:
    """Figures of this worker since it started (or the last reset)."""
    return service.database_metrics(stores)


@router.get(
    "/metrics/database/queries",
    summary="Normalised statements with counts and timings, sortable (monitoring.read)",
)
async def database_queries(
    _: Reader, stores: StoresDep, query: Annotated[QueriesQuery, Query()]
) -> QueriesOut:
    """Statements with the same shape are grouped, optionally of one store, sorted as asked."""
    return await service.queries(stores, query)


@router.get(
    "/metrics/database/slow-queries",
    summary="Statements slower than SLOW_QUERY_MS, newest first (monitoring.read)",
)
async def slow_queries(
    _: Reader, stores: StoresDep, query: Annotated[SlowQueriesQuery, Query()]
) -> SlowQueriesOut:
    """Recent statements over the SLOW_QUERY_MS threshold, with their duration."""
    return service.slow_queries(stores, query)


@router.post(
    "/metrics/database/reset",
    summary="Reset this worker's query statistics, or also pg_stat_statements (monitoring.manage)",
)
async def reset_database_metrics(
    _: Manager, stores: StoresDep, body: ResetIn | None = None
) -> ResetOut:
    """Clears this worker's statistics; `pg_stat_statements=true` also resets PostgreSQL's."""
    return await service.reset(stores, body or ResetIn())


@router.get(
    "/status",
    summary="Version, git sha, uptime, workers, masked settings, queue depths (monitoring.read)",
)
async def status(_: Reader, observability: ObservabilityDep) -> StatusOut:
    """What an operator checks first: versions, uptime, workers, settings with secrets masked."""
    return service.status(observability)


@health_router.get(
    "/database/detailed",
    summary="Every store: version, pool, replication or cluster state (monitoring.read)",
)
async def database_detailed(_: Reader, stores: StoresDep) -> DetailedHealthOut:
    """Slower than /health/database: asks every store for its own state."""
    return await service.detailed_health(stores)


@health_router.get(
    "/system", summary="CPU, memory, disk, open files, threads, event-loop lag (monitoring.read)"
)
async def system(_: Reader, observability: ObservabilityDep) -> SystemOut:
    """This host's and this process's resources."""
    return await service.system(observability)


class SentryTestError(RuntimeError):
    """Raised on purpose by /health/test-sentry."""


@health_router.get(
    "/test-sentry",
    responses=responses(InternalError),
    summary="Raise an unhandled error on purpose, to check error tracking (monitoring.manage)",
)
async def sentry_test(_: Manager) -> None:
    """Always answers 500 `internal_error`: the deliberate error Sentry should receive."""
    raise SentryTestError("deliberate error from /health/test-sentry")
