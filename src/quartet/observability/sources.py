"""Metrics read from the app's own counters: the registration hook for any component.

Components that already keep their own figures (the activity writer's `stats()`, the cache's
hit/miss counters, connection pools, the notification outbox) plug in with one call to
`MetricSources.add_stats` (or `add_gauge` / `add_counter`), given how to read them; nothing in
the component changes. The sampler reads every source every METRICS_SAMPLE_INTERVAL seconds
and right before a scrape: a gauge is set to the value read, a counter advances by the growth
since the last read (a cumulative figure that went down, as after a restart, restarts it).
A reading may be a number or an awaitable one (a count in a database, say).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

logger = logging.getLogger(__name__)

Reading = float | int | Awaitable[float | int]
Read = Callable[[], Reading]
StatsRead = Callable[[], Mapping[str, float | int] | Awaitable[Mapping[str, float | int]]]

_gauges: dict[str, Gauge] = {}
_counters: dict[str, Counter] = {}
READ_TIMEOUT = 2.0


def _gauge(name: str, documentation: str, labelnames: tuple[str, ...]) -> Gauge:
    """One metric object per name for the process (apps come and go; metrics stay)."""
    gauge = _gauges.get(name)
    if gauge is None:
        gauge = _gauges[name] = Gauge(name, documentation, labelnames, multiprocess_mode="livesum")
    return gauge


def _counter(name: str, documentation: str) -> Counter:
    counter = _counters.get(name)
    if counter is None:
        counter = _counters[name] = Counter(name, documentation)
    return counter


@dataclass
class _GaugePart:
    gauge: Gauge
    labels: tuple[str, ...]
    queue: str | None


@dataclass
class _CounterPart:
    counter: Counter
    last: float | None = None


_Part = _GaugePart | _CounterPart


@dataclass
class MetricSources:
    """Every metric this app reads from its components (one per app instance)."""

    queue_depths: dict[str, float] = field(default_factory=dict)
    _single: list[tuple[str, Read, _Part]] = field(default_factory=list)
    _stats: list[tuple[str, StatsRead, dict[str, _Part]]] = field(default_factory=list)
    _failing: set[str] = field(default_factory=set)
    # One sample at a time: a stale reading applied after a newer one would look like a reset.
    _sampling: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add_gauge(
        self,
        name: str,
        documentation: str,
        read: Read,
        *,
        labels: Mapping[str, str] | None = None,
        queue: str | None = None,
    ) -> None:
        """A gauge set to `read()`; `queue` names it among the queue depths /status shows."""
        labels = dict(labels or {})
        part = _GaugePart(_gauge(name, documentation, tuple(labels)), tuple(labels.values()), queue)
        self._single.append((name, read, part))

    def add_counter(self, name: str, documentation: str, read: Read) -> None:
        """A counter following the cumulative total `read()` returns (name without _total)."""
        self._single.append((name, read, _CounterPart(_counter(name, documentation))))

    def add_stats(
        self,
        prefix: str,
        read: StatsRead,
        *,
        counters: Mapping[str, str] | None = None,
        gauges: Mapping[str, str] | None = None,
        queue: str | None = None,
    ) -> None:
        """Several figures from one `read()` returning a mapping: each key of `counters`
        becomes the counter `{prefix}_{key}_total`, each key of `gauges` the gauge
        `{prefix}_{key}` (values are the help texts); `queue` names the gauge key that is a
        queue depth. E.g. `sources.add_stats("quartet_outbox", outbox.stats, counters={"sent":
        "Messages delivered"}, gauges={"pending": "Messages waiting"}, queue="pending")`."""
        parts: dict[str, _Part] = {}
        for key, doc in (counters or {}).items():
            parts[key] = _CounterPart(_counter(f"{prefix}_{key}", doc))
        for key, doc in (gauges or {}).items():
            queue_name = prefix.removeprefix("quartet_") if key == queue else None
            parts[key] = _GaugePart(_gauge(f"{prefix}_{key}", doc, ()), (), queue_name)
        self._stats.append((prefix, read, parts))

    async def sample(self) -> None:
        """Read every source once; a source that fails is skipped (and logged once)."""
        async with self._sampling:
            await self._sample()

    async def _sample(self) -> None:
        for name, read, part in self._single:
            value = await self._read(name, read)
            if isinstance(value, int | float):
                self._apply(part, float(value))
        for prefix, read_stats, parts in self._stats:
            figures = await self._read(prefix, read_stats)
            if isinstance(figures, Mapping):
                for key, part in parts.items():
                    if key in figures:
                        self._apply(part, float(figures[key]))

    async def _read(self, name: str, read: Callable[[], object]) -> object:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                reading = read()
                value = await reading if inspect.isawaitable(reading) else reading
        except Exception as error:
            if name not in self._failing:
                self._failing.add(name)
                logger.warning("metric source %s failed: %s", name, type(error).__name__)
            return None
        self._failing.discard(name)
        return value

    def _apply(self, part: _Part, value: float) -> None:
        if isinstance(part, _GaugePart):
            (part.gauge.labels(*part.labels) if part.labels else part.gauge).set(value)
            if part.queue is not None:
                self.queue_depths[part.queue] = value
            return
        grown = value if part.last is None or value < part.last else value - part.last
        part.last = value
        if grown > 0:
            part.counter.inc(grown)


async def run_sampler(sources: MetricSources, interval: float) -> None:
    """Sample forever (a lifespan task, cancelled at shutdown)."""
    while True:
        with suppress(Exception):
            await sources.sample()
        await asyncio.sleep(interval)
