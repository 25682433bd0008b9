"""The activity writer: the app records what users do without waiting for Cassandra.

`record()` is synchronous and never blocks or raises: it puts the event on a bounded in-process
asyncio queue (`put_nowait`). A background task, started and stopped by the app's lifespan,
takes whatever is queued (up to ACTIVITY_BATCH_SIZE events at a time, at once when anything is
there, so nothing waits as long as a second) and writes each event with the repository's
idempotent logged batch, concurrently. When Cassandra is slow or down the batch is retried with
exponential backoff while the queue keeps accepting events until ACTIVITY_QUEUE_MAX are held;
beyond that, and whatever is still unwritten when shutdown's grace time ends, is dropped:
counted in `stats()` and logged, never silently lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress

from quartet.core.background import BackgroundTask
from quartet.core.clock import to_millis, utcnow
from quartet.core.errors import StoreUnavailableError
from quartet.core.ids import uuid7
from quartet.events.models import (
    ANONYMOUS,
    METADATA_MAX_BYTES,
    SECONDS_PER_DAY,
    Event,
)
from quartet.events.repository import EventRepository
from quartet.settings import Settings
from quartet.stores.cassandra import UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

RETRY_BASE_DELAY = 0.25
PERMANENT_ERROR_ATTEMPTS = 3
"""Attempts at a batch failing with an error that is not an outage (e.g. a missing table)."""
DROP_LOG_INTERVAL = 10.0
SHORT_VALUE = 256
_TRANSIENT = (*UNAVAILABLE_ERRORS, StoreUnavailableError, OSError)


def metadata_text(metadata: Mapping[str, object]) -> str | None:
    """Compact JSON within the metadata cap; oversized values are left out and marked."""
    if not metadata:
        return None
    text = json.dumps(metadata, separators=(",", ":"), default=str)
    if len(text.encode()) <= METADATA_MAX_BYTES:
        return text
    short = {
        key: value
        for key, value in metadata.items()
        if isinstance(value, str | int | float | bool | None) and len(str(value)) <= SHORT_VALUE
    }
    return json.dumps({**short, "truncated": True}, separators=(",", ":"), default=str)


class ActivityWriter:
    def __init__(self, events: EventRepository, settings: Settings) -> None:
        self.events = events
        self.capacity = settings.ACTIVITY_QUEUE_MAX
        self.batch_size = settings.ACTIVITY_BATCH_SIZE
        self.retry_max_delay = settings.ACTIVITY_RETRY_MAX_DELAY
        self.shutdown_timeout = settings.ACTIVITY_SHUTDOWN_TIMEOUT
        # Activity happens now; time spent queued is not taken off its retention.
        self.ttl = settings.EVENTS_TTL_DAYS * SECONDS_PER_DAY
        # One slot more than the capacity: the stop marker always fits.
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=self.capacity + 1)
        self._held = 0  # queued plus being written: what `capacity` bounds
        self._enqueued = self._written = self._dropped = 0
        self._batches = self._failed_batches = 0
        self._unreported_drops: Counter[str] = Counter()  # by reason
        self._last_drop_log = float("-inf")
        self._closing = False
        self._stopping = asyncio.Event()
        self._drain = BackgroundTask("activity-writer")

    # -- producers -------------------------------------------------------------------------

    def record(
        self,
        event_type: str,
        user_id: uuid.UUID | str | None,
        metadata: Mapping[str, object] | None = None,
    ) -> bool:
        """Queue one event (never blocks, never raises); False when it had to be dropped."""
        if self._closing or self._held >= self.capacity:
            self._drop(1, "shutting down" if self._closing else "queue full")
            return False
        event = Event(
            event_id=uuid7(),
            user_id=str(user_id) if user_id is not None else ANONYMOUS,
            event_type=event_type,
            timestamp=to_millis(utcnow()),
            metadata=metadata_text(metadata or {}),
        )
        self._queue.put_nowait(event)
        self._held += 1
        self._enqueued += 1
        return True

    def stats(self) -> dict[str, int]:
        return {
            "enqueued": self._enqueued,
            "written": self._written,
            "dropped": self._dropped,
            "failed_batches": self._failed_batches,
            "batches": self._batches,
            "pending": self._held,
        }

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if not self._drain.running:
            self._closing = False
            self._stopping.clear()
            self._drain.start(self._run)

    async def stop(self) -> None:
        """Refuse new events, write what is held (within ACTIVITY_SHUTDOWN_TIMEOUT), and count
        what could not be written as dropped."""
        if not self._drain.running:
            return
        self._closing = True
        self._queue.put_nowait(None)
        self._stopping.set()
        await self._drain.stop(self.shutdown_timeout)
        while not self._queue.empty():
            self._queue.get_nowait()
        if self._held:
            self._drop(self._held, "not written before shutdown")
            self._held = 0
        self._report_drops()

    # -- the drain task --------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            batch, stop = await self._next_batch()
            if batch:
                await self._write(batch)
            if stop:
                return

    async def _next_batch(self) -> tuple[list[Event], bool]:
        """Wait for one event, then take what else is queued, up to the batch size. The stop
        marker is queued after every event accepted, so seeing it means all are taken."""
        batch: list[Event] = []
        item = await self._queue.get()
        while item is not None:
            batch.append(item)
            if len(batch) == self.batch_size or self._queue.empty():
                return batch, False
            item = self._queue.get_nowait()
        return batch, True

    async def _write(self, batch: list[Event]) -> None:
        attempt = 0
        while True:
            results = await asyncio.gather(
                *(self.events.insert(event, self.ttl) for event in batch), return_exceptions=True
            )
            outcomes = zip(batch, results, strict=True)
            failed = [event for event, r in outcomes if isinstance(r, BaseException)]
            self._written += len(batch) - len(failed)
            self._held -= len(batch) - len(failed)
            if not failed:
                self._batches += 1
                return
            self._failed_batches += 1
            attempt += 1
            error = next(r for r in results if isinstance(r, BaseException))
            if not isinstance(error, _TRANSIENT) and attempt >= PERMANENT_ERROR_ATTEMPTS:
                self._held -= len(failed)
                self._drop(len(failed), f"{type(error).__name__}: {error}")
                return
            delay = min(self.retry_max_delay, RETRY_BASE_DELAY * 2 ** (attempt - 1))
            logger.warning(
                "activity writer: %d of %d events not written (%s); retry %d in %.2fs",
                len(failed),
                len(batch),
                type(error).__name__,
                attempt,
                delay,
                extra={"pending": self._held},
            )
            self._report_drops(every=DROP_LOG_INTERVAL)
            await self._pause(delay)
            batch = failed

    async def _pause(self, delay: float) -> None:
        """Back off; a shutdown cuts the first wait short so the final flush starts at once."""
        if self._stopping.is_set():
            await asyncio.sleep(min(delay, 1.0))
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    # -- drops -----------------------------------------------------------------------------

    def _drop(self, count: int, reason: str) -> None:
        self._dropped += count
        self._unreported_drops[reason] += count
        self._report_drops(every=DROP_LOG_INTERVAL)

    def _report_drops(self, every: float = 0.0) -> None:
        """Log drops not yet logged, at most once per `every` seconds."""
        now = time.monotonic()
        if not self._unreported_drops or now - self._last_drop_log < every:
            return
        counts = ", ".join(f"{n} events ({why})" for why, n in self._unreported_drops.items())
        logger.warning("activity writer dropped %s; %d dropped since start", counts, self._dropped)
        self._unreported_drops.clear()
        self._last_drop_log = now
