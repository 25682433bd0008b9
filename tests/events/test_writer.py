"""The activity writer on its own: batching, overflow counting, retries and the shutdown flush,
against the real Cassandra node (or a port where nothing listens, for an outage)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from quartet.events.models import METADATA_MAX_BYTES
from quartet.events.repository import EventRepository
from quartet.events.writer import ActivityWriter, metadata_text
from quartet.stores.cassandra import CassandraStore
from quartet.stores.registry import Stores
from tests.accounts import unique
from tests.conftest import free_port, make_settings
from tests.events.helpers import drained


async def feed_ids(repository: EventRepository, user_id: str) -> set[str]:
    now = datetime.now(UTC)
    since = now - timedelta(hours=1)
    found: set[str] = set()
    for day in sorted({since.date(), now.date()}):
        state: bytes | None = None
        while True:
            pages = repository.pages_by_user(user_id, None)
            events, state = await pages(day, since, now, 500, state)
            found |= {e.metadata or "" for e in events}
            if state is None:
                break
    return found


def writer_for(store: CassandraStore, **settings: object) -> ActivityWriter:
    return ActivityWriter(EventRepository(store), make_settings(**settings))


async def test_events_are_written_in_batches(stores: Stores) -> None:
    writer = writer_for(stores.cassandra, ACTIVITY_BATCH_SIZE=100)
    user = unique("batch-")
    writer.start()
    try:
        accepted = [writer.record("test.batch", user, {"n": n}) for n in range(450)]
        assert all(accepted)
        assert writer.stats()["pending"] == 450
        stats = await drained(writer)
    finally:
        await writer.stop()
    assert stats == {
        "enqueued": 450,
        "written": 450,
        "dropped": 0,
        "failed_batches": 0,
        "batches": 5,  # queued before the task ran: taken 100 at a time
        "pending": 0,
    }
    stored = await feed_ids(EventRepository(stores.cassandra), user)
    assert stored == {json.dumps({"n": n}, separators=(",", ":")) for n in range(450)}


async def test_stop_flushes_what_is_queued(stores: Stores) -> None:
    writer = writer_for(stores.cassandra, ACTIVITY_BATCH_SIZE=50)
    user = unique("flush-")
    writer.start()
    for n in range(120):
        writer.record("test.flush", user, {"n": n})
    await writer.stop()  # at once: nothing has been written yet

    stats = writer.stats()
    assert (stats["written"], stats["dropped"], stats["pending"]) == (120, 0, 0)
    assert len(await feed_ids(EventRepository(stores.cassandra), user)) == 120
    assert writer.record("test.flush", user) is False  # stopped: refused, and counted
    assert writer.stats()["dropped"] == 1


async def test_overflow_and_unwritten_events_are_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cassandra unreachable: the writer retries, holds up to the queue's capacity, counts what
    it must refuse, and at shutdown counts what it could not write."""
    down = CassandraStore(make_settings(CASSANDRA_PORT=free_port(), CASSANDRA_CONNECT_TIMEOUT=1))
    writer = writer_for(
        down, ACTIVITY_QUEUE_MAX=10, ACTIVITY_BATCH_SIZE=4, ACTIVITY_SHUTDOWN_TIMEOUT=0.5
    )
    caplog.set_level(logging.WARNING, logger="quartet.events.writer")
    writer.start()
    try:
        accepted = [writer.record("test.overflow", "someone", {"n": n}) for n in range(15)]
        assert accepted == [True] * 10 + [False] * 5
        assert writer.stats()["dropped"] == 5
        assert writer.stats()["pending"] == 10
        for _ in range(200):
            if writer.stats()["failed_batches"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert writer.stats()["failed_batches"] >= 2  # retried, with backoff
        assert writer.stats()["pending"] == 10  # nothing lost while it retries
    finally:
        await writer.stop()
        await down.close()

    stats = writer.stats()
    assert (stats["enqueued"], stats["written"], stats["dropped"], stats["pending"]) == (
        10,
        0,
        15,
        0,
    )
    messages = [r.getMessage() for r in caplog.records]
    assert any("not written (NoHostAvailable)" in m for m in messages)
    drops = [m for m in messages if m.startswith("activity writer dropped")]
    assert drops[0] == "activity writer dropped 1 events (queue full); 1 dropped since start"
    assert drops[-1] == (
        "activity writer dropped 4 events (queue full), 10 events (not written before"
        " shutdown); 15 dropped since start"
    )


def test_oversized_metadata_is_trimmed_to_the_cap() -> None:
    sessions = [str(n) * 36 for n in range(500)]
    text = metadata_text({"ip": "10.0.0.1", "sessions": sessions, "note": "x" * 300})
    assert text is not None
    assert len(text.encode()) <= METADATA_MAX_BYTES
    assert json.loads(text) == {"ip": "10.0.0.1", "truncated": True}
    assert metadata_text({}) is None
