"""Observability's state for one app: metric sources, the loop-lag probe and the sampler
(started and stopped by the lifespan), Sentry and tracing. `install` adds its routes and
middleware; `app.state.observability.sources` is the hook other components register with."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from prometheus_client import multiprocess

from quartet import __version__
from quartet.events.writer import ActivityWriter
from quartet.observability import metrics
from quartet.observability.loop_lag import LoopLagProbe
from quartet.observability.multiprocess import multiprocess_dir
from quartet.observability.pools import pool_usage
from quartet.observability.sentry import init_sentry
from quartet.observability.sources import MetricSources, run_sampler
from quartet.observability.tracing import setup_tracing
from quartet.settings import Settings
from quartet.stores.cache import Cache
from quartet.stores.registry import Stores

if TYPE_CHECKING:
    from quartet.observability.otel import Tracing

_POOL_STATES = {
    "postgres": ("checked_out", "checked_in", "overflow", "size"),
    "redis": ("in_use", "idle", "max"),
    "mongodb": ("checked_out", "open"),
    "cassandra": ("in_flight", "open"),
}


def git_sha(settings: Settings) -> str | None:
    """GIT_SHA, else the checkout's HEAD when the code runs from one (None in an image)."""
    return settings.GIT_SHA or _checkout_head()


@cache
def _checkout_head() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607 - a dev checkout's git
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


class Observability:
    def __init__(
        self, settings: Settings, stores: Stores, activity: ActivityWriter, cache: Cache
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.started_at = time.time()
        self.git_sha = git_sha(settings)
        self.sources = MetricSources()
        self.probe = LoopLagProbe(settings.EVENT_LOOP_PROBE_INTERVAL)
        self.process = psutil.Process()
        self.sentry = init_sentry(settings, self.git_sha)
        self.tracing: Tracing | None = setup_tracing(settings)
        self._tasks: list[asyncio.Task[None]] = []
        if settings.METRICS_ENABLED:
            self._register(activity, cache)
        if self.tracing is not None:
            for monitor in stores.monitors.values():
                monitor.observers.append(self.tracing.on_query)

    def _register(self, activity: ActivityWriter, cache: Cache) -> None:
        for monitor in self.stores.monitors.values():
            monitor.observers.append(_count_query)
        for store, states in _POOL_STATES.items():
            for state in states:
                self.sources.add_gauge(
                    "quartet_db_pool_connections",
                    "Connection pool usage by store and state",
                    lambda store=store, state=state: pool_usage(self.stores)[store][state],  # type: ignore[misc]
                    labels={"store": store, "state": state},
                )
        self.sources.add_stats(
            "quartet_activity",
            activity.stats,
            counters={
                "enqueued": "Activity events accepted by the writer",
                "written": "Activity events written to Cassandra",
                "dropped": "Activity events dropped (queue full, shutdown, permanent errors)",
                "failed_batches": "Activity write rounds with at least one failed event",
            },
            gauges={"pending": "Activity events queued or being written"},
            queue="pending",
        )
        self.sources.add_stats(
            "quartet_cache",
            lambda: vars(cache.counters),
            counters={
                "hits": "Read-cache hits",
                "misses": "Read-cache misses (loaded from the source)",
                "errors": "Read-cache operations that failed (read through to the source)",
            },
        )

    async def start(self) -> None:
        self.process.cpu_percent(None)  # the first reading only starts the measurement
        self._tasks.append(asyncio.create_task(self.probe.run(), name="event-loop-lag-probe"))
        if self.settings.METRICS_ENABLED:
            metrics.WORKER_INFO.labels(__version__).set(1)
            self._tasks.append(
                asyncio.create_task(
                    run_sampler(self.sources, self.settings.METRICS_SAMPLE_INTERVAL),
                    name="metrics-sampler",
                )
            )

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.shutdown)
        directory = multiprocess_dir()
        if directory is not None:  # this worker's live gauges leave the sums
            multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


def _count_query(store: str, _statement: str, seconds: float, failed: bool, slow: bool) -> None:
    """The query monitors' observer feeding the per-store Prometheus metrics."""
    metrics.DB_QUERIES.labels(store).inc()
    metrics.DB_QUERY_DURATION.labels(store).observe(seconds)
    if failed:
        metrics.DB_QUERY_ERRORS.labels(store).inc()
    if slow:
        metrics.DB_SLOW_QUERIES.labels(store).inc()
