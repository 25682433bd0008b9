"""Query monitoring shared by the three query stores (PostgreSQL, MongoDB, Cassandra).

Each store's hook calls `QueryMonitor.record(statement, seconds, rows)` with a *normalised*
statement (placeholders, never bound values). Per statement we keep count, total/max time, rows
and a small reservoir of recent durations for an approximate p95; statements slower than
`SLOW_QUERY_MS` are logged and kept in a bounded list.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("quartet.queries")

_RESERVOIR = 200
_STORE_RESERVOIR = 2000

QueryObserver = Callable[[str, str, float, bool, bool], None]
"""Called with (store, statement, seconds, failed, slow) after each statement (metrics, spans)."""
_MAX_STATEMENT_CHARS = 2000
_WHITESPACE = re.compile(r"\s+")


def normalise_sql(statement: str) -> str:
    """Collapse whitespace and cap length; SQLAlchemy/CQL text already uses placeholders."""
    return _WHITESPACE.sub(" ", statement).strip()[:_MAX_STATEMENT_CHARS]


@dataclass
class StatementStats:
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    rows: int = 0
    errors: int = 0
    recent_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_RESERVOIR))

    def p95_ms(self) -> float:
        return percentile(sorted(self.recent_ms), 0.95)


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass(frozen=True)
class SlowQuery:
    store: str
    statement: str
    duration_ms: float
    at: datetime


class QueryMonitor:
    """Statement statistics for one store. Thread-safe: Cassandra's callbacks run off-loop."""

    def __init__(self, store: str, *, slow_ms: float, slow_log_size: int) -> None:
        self.store = store
        self.slow_ms = slow_ms
        self._stats: dict[str, StatementStats] = {}
        self._slow: deque[SlowQuery] = deque(maxlen=slow_log_size)
        self._recent_ms: deque[float] = deque(maxlen=_STORE_RESERVOIR)  # every statement
        self._lock = threading.Lock()
        self.observers: list[QueryObserver] = []

    def record(
        self, statement: str, seconds: float, rows: int | None = None, *, failed: bool = False
    ) -> None:
        ms = seconds * 1000.0
        with self._lock:
            stats = self._stats.get(statement)
            if stats is None:
                stats = self._stats[statement] = StatementStats()
            stats.count += 1
            stats.total_ms += ms
            stats.max_ms = max(stats.max_ms, ms)
            stats.rows += rows if rows is not None and rows > 0 else 0
            stats.errors += failed
            stats.recent_ms.append(ms)
            self._recent_ms.append(ms)
            slow = ms >= self.slow_ms
            if slow:
                self._slow.append(SlowQuery(self.store, statement, ms, datetime.now(UTC)))
        if slow:
            logger.warning(
                "slow %s query: %.1f ms",
                self.store,
                ms,
                extra={
                    "store": self.store,
                    "duration_ms": round(ms, 2),
                    "statement": statement[:500],
                },
            )
        for observer in self.observers:
            observer(self.store, statement, seconds, failed, slow)

    def stats(self) -> list[dict[str, Any]]:
        """Per-statement figures, most total time first."""
        with self._lock:
            items = list(self._stats.items())
        rows = [
            {
                "store": self.store,
                "statement": stmt,
                "count": s.count,
                "total_ms": round(s.total_ms, 3),
                "mean_ms": round(s.total_ms / s.count, 3),
                "max_ms": round(s.max_ms, 3),
                "p95_ms": round(s.p95_ms(), 3),
                "rows": s.rows,
                "errors": s.errors,
            }
            for stmt, s in items
        ]
        return sorted(rows, key=lambda r: r["total_ms"], reverse=True)

    def slow_queries(self) -> list[SlowQuery]:
        with self._lock:
            return list(self._slow)

    def total_count(self) -> int:
        with self._lock:
            return sum(s.count for s in self._stats.values())

    def summary(self) -> dict[str, float]:
        """Store-wide totals and latency percentiles over the recent statements."""
        with self._lock:
            count = sum(s.count for s in self._stats.values())
            errors = sum(s.errors for s in self._stats.values())
            total_ms = sum(s.total_ms for s in self._stats.values())
            ordered = sorted(self._recent_ms)
        return {
            "count": count,
            "errors": errors,
            "error_rate": round(errors / count, 6) if count else 0.0,
            "total_ms": round(total_ms, 3),
            "mean_ms": round(total_ms / count, 3) if count else 0.0,
            "p50_ms": round(percentile(ordered, 0.50), 3),
            "p95_ms": round(percentile(ordered, 0.95), 3),
            "p99_ms": round(percentile(ordered, 0.99), 3),
        }

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()
            self._slow.clear()
            self._recent_ms.clear()
