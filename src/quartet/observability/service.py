"""What the observability endpoints answer, composed from the query monitors, the pools, the
stores' own facts (through `repository`) and the process."""

from __future__ import annotations

import asyncio
import glob
import os
import platform
import resource
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError

from quartet import __version__
from quartet.core.log_redaction import redact
from quartet.observability import repository
from quartet.observability.multiprocess import multiprocess_dir
from quartet.observability.pools import pool_usage
from quartet.observability.schemas import (
    ClusterInfo,
    CpuOut,
    DatabaseMetricsOut,
    DetailedHealthOut,
    DiskOut,
    FilesOut,
    LoopLagOut,
    MemoryOut,
    PgStatStatements,
    QueriesOut,
    QueriesQuery,
    QueryTotals,
    ResetIn,
    ResetOut,
    SlowQueriesOut,
    SlowQueriesQuery,
    SlowQueryOut,
    StatementOut,
    StatusOut,
    StoreDetail,
    StoreMetrics,
    SystemOut,
)
from quartet.settings import Settings
from quartet.stores.registry import STORE_NAMES, Stores

if TYPE_CHECKING:
    from quartet.observability.runtime import Observability

MASK = "***"
_SECRET_NAMES = ("PASSWORD", "SECRET", "TOKEN", "DSN", "KEY")
_PG_UNAVAILABLE = (DBAPIError, OSError, TimeoutError)


def database_metrics(stores: Stores) -> DatabaseMetricsOut:
    pools = pool_usage(stores)
    return DatabaseMetricsOut(
        pid=os.getpid(),
        slow_query_ms=stores.settings.SLOW_QUERY_MS,
        stores={
            name: StoreMetrics(
                pool=pools[name],
                queries=QueryTotals(**stores.monitors[name].summary())
                if name in stores.monitors
                else None,
            )
            for name in STORE_NAMES
        },
    )


async def queries(stores: Stores, query: QueriesQuery) -> QueriesOut:
    monitors = [m for name, m in stores.monitors.items() if query.store in (None, name)]
    rows = [row for monitor in monitors for row in monitor.stats()]
    rows.sort(key=lambda row: row[query.sort], reverse=True)
    pg = None
    if query.store in (None, "postgres"):
        pg = await _pg_stat_statements(stores, query.sort, query.limit)
    return QueriesOut(
        pid=os.getpid(),
        sort=query.sort,
        items=[StatementOut(**row) for row in rows[: query.limit]],
        pg_stat_statements=pg,
    )


async def _pg_stat_statements(stores: Stores, sort: str, limit: int) -> PgStatStatements:
    insights = repository.PostgresInsights(stores.engine)
    try:
        async with asyncio.timeout(stores.settings.HEALTH_CHECK_TIMEOUT):
            if not await insights.has_pg_stat_statements():
                return PgStatStatements(
                    available=False, detail="extension pg_stat_statements is not installed"
                )
            items = await insights.top_statements(sort, limit)
    except _PG_UNAVAILABLE as error:
        return PgStatStatements(available=False, detail=f"postgres: {type(error).__name__}")
    for item in items:  # utility statements are not normalised by PostgreSQL
        item.query = redact(item.query)
    return PgStatStatements(available=True, items=items)


def slow_queries(stores: Stores, query: SlowQueriesQuery) -> SlowQueriesOut:
    found = [
        slow
        for name, monitor in stores.monitors.items()
        if query.store in (None, name)
        for slow in monitor.slow_queries()
    ]
    found.sort(key=lambda slow: slow.at, reverse=True)
    return SlowQueriesOut(
        pid=os.getpid(),
        slow_query_ms=stores.settings.SLOW_QUERY_MS,
        items=[
            SlowQueryOut(
                store=s.store, statement=s.statement, duration_ms=round(s.duration_ms, 3), at=s.at
            )
            for s in found[: query.limit]
        ],
    )


async def reset(stores: Stores, body: ResetIn) -> ResetOut:
    """This worker's query statistics (and PostgreSQL's, when asked: a store error is a 503)."""
    stores.reset_query_stats()
    if body.pg_stat_statements:
        await repository.PostgresInsights(stores.engine).reset_statements()
    return ResetOut(
        pid=os.getpid(), reset=sorted(stores.monitors), pg_stat_statements=body.pg_stat_statements
    )


def _insight(stores: Stores, name: str) -> Callable[[], Awaitable[tuple[str, ClusterInfo]]]:
    if name == "postgres":
        return repository.PostgresInsights(stores.engine).server
    if name == "redis":
        return repository.RedisInsights(stores.redis).server
    if name == "mongodb":
        return repository.MongoInsights(stores.mongo_client).server
    return repository.CassandraInsights(stores.cassandra).server


async def _detail(stores: Stores, name: str, pool: dict[str, int]) -> StoreDetail:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(stores.settings.HEALTH_CHECK_TIMEOUT):
            version, cluster = await _insight(stores, name)()
    except Exception as error:  # any failure is this store's state, never the endpoint's
        return StoreDetail(
            status="unavailable",
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error="timed out" if isinstance(error, TimeoutError) else type(error).__name__,
            pool=pool,
        )
    return StoreDetail(
        status="ok",
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        version=version,
        pool=pool,
        cluster=cluster,
    )


async def detailed_health(stores: Stores) -> DetailedHealthOut:
    pools = pool_usage(stores)
    details = await asyncio.gather(*(_detail(stores, n, pools[n]) for n in STORE_NAMES))
    by_name = dict(zip(STORE_NAMES, details, strict=True))
    healthy = all(d.status == "ok" for d in details)
    return DetailedHealthOut(status="ok" if healthy else "degraded", stores=by_name)


def masked_settings(settings: Settings) -> dict[str, Any]:
    """Every setting, JSON-ready: secrets masked, passwords in URLs redacted."""
    summary: dict[str, Any] = {}
    for name, value in settings:
        if isinstance(value, SecretStr) or (
            any(part in name for part in _SECRET_NAMES) and value not in (None, "")
        ):
            summary[name] = MASK
        elif isinstance(value, str):
            summary[name] = redact(value)
        elif isinstance(value, Path):
            summary[name] = str(value)
        else:
            summary[name] = value
    return summary


def live_workers() -> int:
    """Workers with live gauges in the multiprocess directory (each sets one at start)."""
    directory = multiprocess_dir()
    if directory is None:
        return 1
    pids = {
        Path(path).stem.rsplit("_", 1)[-1]
        for path in glob.glob(os.path.join(directory, "gauge_live*_*.db"))
    }
    return max(1, len(pids))


def status(observability: Observability) -> StatusOut:
    settings = observability.settings
    return StatusOut(
        service=settings.PROJECT_NAME,
        version=__version__,
        git_sha=observability.git_sha,
        environment=settings.ENVIRONMENT,
        pid=os.getpid(),
        started_at=datetime.fromtimestamp(observability.started_at, UTC),
        uptime_seconds=round(time.time() - observability.started_at, 3),
        workers=live_workers(),
        python=platform.python_version(),
        metrics=settings.METRICS_ENABLED,
        sentry=observability.sentry,
        tracing=observability.tracing is not None,
        queue_depths=dict(observability.sources.queue_depths),
        settings=masked_settings(settings),
    )


def _system(observability: Observability) -> SystemOut:
    process = observability.process
    memory = psutil.virtual_memory()
    disk_path = str(Path.cwd())
    disk = psutil.disk_usage(disk_path)
    soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    load = os.getloadavg()
    return SystemOut(
        pid=process.pid,
        cpu=CpuOut(
            process_percent=process.cpu_percent(None),
            system_percent=psutil.cpu_percent(None),
            count=psutil.cpu_count() or 1,
            load_average=(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
        ),
        memory=MemoryOut(
            process_rss_bytes=process.memory_info().rss,
            system_total_bytes=memory.total,
            system_available_bytes=memory.available,
            system_percent=memory.percent,
        ),
        disk=DiskOut(
            path=disk_path,
            total_bytes=disk.total,
            used_bytes=disk.used,
            free_bytes=disk.free,
            percent=disk.percent,
        ),
        files=FilesOut(
            open=process.num_fds(),
            limit=None if soft_limit == resource.RLIM_INFINITY else soft_limit,
        ),
        threads=process.num_threads(),
        event_loop_lag=LoopLagOut(**observability.probe.summary()),
    )


async def system(observability: Observability) -> SystemOut:
    """Read from /proc in a thread: quick, but still file reads kept off the event loop."""
    return await asyncio.to_thread(_system, observability)
