"""Event-loop lag: a probe sleeps a fixed interval and measures how late it woke.

A blocked loop (a sync call, a long CPU burst) is the failure mode of an async backend: every
request on the worker waits. The lag feeds `quartet_event_loop_lag_seconds` and /health/system.
"""

from __future__ import annotations

import asyncio
from collections import deque

from quartet.observability.metrics import EVENT_LOOP_LAG, EVENT_LOOP_LAG_CURRENT
from quartet.stores.monitoring import percentile

WINDOW = 240  # samples kept for /health/system (two minutes at the default interval)


class LoopLagProbe:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last = 0.0
        self.recent: deque[float] = deque(maxlen=WINDOW)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            self.observe(max(0.0, loop.time() - started - self.interval))

    def observe(self, lag: float) -> None:
        self.last = lag
        self.recent.append(lag)
        EVENT_LOOP_LAG.observe(lag)
        EVENT_LOOP_LAG_CURRENT.set(lag)

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self.recent)
        return {
            "interval_ms": round(self.interval * 1000, 3),
            "samples": len(ordered),
            "last_ms": round(self.last * 1000, 3),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 3),
            "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 3),
        }
