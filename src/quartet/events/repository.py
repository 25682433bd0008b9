"""The only CQL of the event log. Tables (see quartet.schema), one per access pattern:

- events_by_type ((event_type, day), timestamp DESC, event_id DESC): GET /logs
- events_by_user ((user_id, day), timestamp DESC, event_id DESC): GET /activity
- events_by_id (event_id): lookup and update
- event_partitions ((day), kind, key) and event_days ((bucket), day): which partitions exist,
  so deleting old events never scans a table

Every write of an event goes to all of them in one logged batch of upserts, so writing the same
event again (a retry after a timeout) lands on the same rows instead of duplicating it.
Statements name tables as `{ks}.table`, set to the keyspace (an identifier the settings check);
values are always bound, and every statement is prepared once by the store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from quartet.events.models import SECONDS_PER_DAY, Event
from quartet.stores.cassandra import CassandraStore, Row

TYPE, USER = "type", "user"
DAY_BUCKET = 0  # event_days holds one small row per day, all in one partition
DELETE_CONCURRENCY = 64

INSERT_BY_ID = (
    "INSERT INTO {ks}.events_by_id (event_id, user_id, event_type, timestamp, metadata)"
    " VALUES (?, ?, ?, ?, ?) USING TTL ?"
)
INSERT_BY_TYPE = (
    "INSERT INTO {ks}.events_by_type (event_type, day, timestamp, event_id, user_id, metadata)"
    " VALUES (?, ?, ?, ?, ?, ?) USING TTL ?"
)
INSERT_BY_USER = (
    "INSERT INTO {ks}.events_by_user (user_id, day, timestamp, event_id, event_type, metadata)"
    " VALUES (?, ?, ?, ?, ?, ?) USING TTL ?"
)
INSERT_PARTITION = "INSERT INTO {ks}.event_partitions (day, kind, key) VALUES (?, ?, ?) USING TTL ?"
INSERT_DAY = "INSERT INTO {ks}.event_days (bucket, day) VALUES (?, ?) USING TTL ?"

SELECT_BY_ID = (
    "SELECT event_id, user_id, event_type, timestamp, metadata, TTL(user_id) AS ttl"
    " FROM {ks}.events_by_id WHERE event_id = ?"
)
SELECT_BY_TYPE = (
    "SELECT event_id, user_id, event_type, timestamp, metadata FROM {ks}.events_by_type"
    " WHERE event_type = ? AND day = ? AND timestamp >= ? AND timestamp <= ?"
)
SELECT_BY_USER = (
    "SELECT event_id, user_id, event_type, timestamp, metadata FROM {ks}.events_by_user"
    " WHERE user_id = ? AND day = ? AND timestamp >= ? AND timestamp <= ?"
)
SELECT_BY_USER_AND_TYPE = SELECT_BY_USER + " AND event_type = ? ALLOW FILTERING"
SELECT_DAYS_BEFORE = "SELECT day FROM {ks}.event_days WHERE bucket = ? AND day < ?"
SELECT_PARTITIONS = "SELECT kind, key FROM {ks}.event_partitions WHERE day = ?"
SELECT_TYPE_IDS = (
    "SELECT event_id, user_id FROM {ks}.events_by_type WHERE event_type = ? AND day = ?"
)

DELETE_BY_ID = "DELETE FROM {ks}.events_by_id WHERE event_id = ?"
DELETE_TYPE_PARTITION = "DELETE FROM {ks}.events_by_type WHERE event_type = ? AND day = ?"
DELETE_USER_PARTITION = "DELETE FROM {ks}.events_by_user WHERE user_id = ? AND day = ?"
BEFORE = " AND timestamp < ?"
DELETE_DAY_PARTITIONS = "DELETE FROM {ks}.event_partitions WHERE day = ?"
DELETE_DAY = "DELETE FROM {ks}.event_days WHERE bucket = ? AND day = ?"


PageFetch = Callable[
    [date, datetime, datetime, int, bytes | None], Awaitable[tuple[list[Event], bytes | None]]
]
"""One page of one day partition: (day, since, until, page size, paging state)."""


def _event(row: Row) -> Event:
    return Event(
        event_id=row["event_id"],
        user_id=row["user_id"],
        event_type=row["event_type"],
        timestamp=row["timestamp"].replace(tzinfo=UTC),
        metadata=row["metadata"],
    )


def _before(params: list[Any], before: datetime | None) -> tuple[str, list[Any]]:
    """The range restriction of a partial-partition read or delete, if any."""
    return (BEFORE, [*params, before]) if before is not None else ("", params)


class EventRepository:
    def __init__(self, store: CassandraStore) -> None:
        self.store = store

    def _cql(self, template: str) -> str:
        return template.replace("{ks}", self.store.keyspace)

    # -- writes ----------------------------------------------------------------------------

    async def insert(self, event: Event, ttl: int) -> None:
        """The event in every table plus the partition index, all or nothing; `ttl` seconds
        (0: forever). Index rows outlive their events by a day, so delete-old still finds a
        partition whose events were written later with a shorter remaining life."""
        e, day = event, event.day
        index_ttl = ttl + SECONDS_PER_DAY if ttl else 0
        await self.store.execute_batch(
            [
                (
                    self._cql(INSERT_BY_ID),
                    (e.event_id, e.user_id, e.event_type, e.timestamp, e.metadata, ttl),
                ),
                (
                    self._cql(INSERT_BY_TYPE),
                    (e.event_type, day, e.timestamp, e.event_id, e.user_id, e.metadata, ttl),
                ),
                (
                    self._cql(INSERT_BY_USER),
                    (e.user_id, day, e.timestamp, e.event_id, e.event_type, e.metadata, ttl),
                ),
                (self._cql(INSERT_PARTITION), (day, TYPE, e.event_type, index_ttl)),
                (self._cql(INSERT_PARTITION), (day, USER, e.user_id, index_ttl)),
                (self._cql(INSERT_DAY), (DAY_BUCKET, day, index_ttl)),
            ]
        )

    # -- reads -----------------------------------------------------------------------------

    async def get(self, event_id: uuid.UUID) -> tuple[Event, int] | None:
        """The event and the seconds it has left (0: no expiry)."""
        page = await self.store.execute(self._cql(SELECT_BY_ID), (event_id,))
        if not page.rows:
            return None
        row = page.rows[0]
        return _event(row), int(row["ttl"] or 0)

    def pages_by_type(self, event_type: str) -> PageFetch:
        return partial(self._page, SELECT_BY_TYPE, event_type, ())

    def pages_by_user(self, user_id: str, event_type: str | None) -> PageFetch:
        """One user's events; `event_type` filters inside each single-day partition."""
        if event_type is None:
            return partial(self._page, SELECT_BY_USER, user_id, ())
        return partial(self._page, SELECT_BY_USER_AND_TYPE, user_id, (event_type,))

    async def _page(
        self,
        query: str,
        key: str,
        filters: tuple[str, ...],
        day: date,
        since: datetime,
        until: datetime,
        limit: int,
        paging_state: bytes | None,
    ) -> tuple[list[Event], bytes | None]:
        page = await self.store.execute(
            self._cql(query),
            (key, day, since, until, *filters),
            fetch_size=limit,
            paging_state=paging_state,
        )
        return [_event(r) for r in page.rows], page.paging_state

    # -- the partition index and deletion --------------------------------------------------

    async def days_before(self, day: date) -> list[date]:
        query = self._cql(SELECT_DAYS_BEFORE)
        return [row["day"].date() async for row in self.store.iterate(query, (DAY_BUCKET, day))]

    async def partitions(self, day: date) -> list[tuple[str, str]]:
        """(kind, key) of every by-type and by-user partition written for `day`."""
        query = self._cql(SELECT_PARTITIONS)
        return [(row["kind"], row["key"]) async for row in self.store.iterate(query, (day,))]

    async def ids_in_type_partition(
        self, event_type: str, day: date, before: datetime | None
    ) -> AsyncIterator[tuple[uuid.UUID, str]]:
        """(event_id, user_id) of one by-type partition, or of its events before `before`."""
        suffix, params = _before([event_type, day], before)
        async for row in self.store.iterate(self._cql(SELECT_TYPE_IDS + suffix), params):
            yield row["event_id"], row["user_id"]

    async def delete_by_ids(self, event_ids: Sequence[uuid.UUID]) -> None:
        query = self._cql(DELETE_BY_ID)
        for start in range(0, len(event_ids), DELETE_CONCURRENCY):
            chunk = event_ids[start : start + DELETE_CONCURRENCY]
            await asyncio.gather(*(self.store.execute(query, (i,)) for i in chunk))

    async def delete_type_partition(
        self, event_type: str, day: date, before: datetime | None
    ) -> None:
        """The whole partition, or only its events before `before` (one range tombstone)."""
        suffix, params = _before([event_type, day], before)
        await self.store.execute(self._cql(DELETE_TYPE_PARTITION + suffix), params)

    async def delete_user_partition(self, user_id: str, day: date, before: datetime | None) -> None:
        suffix, params = _before([user_id, day], before)
        await self.store.execute(self._cql(DELETE_USER_PARTITION + suffix), params)

    async def forget_day(self, day: date) -> None:
        """Drop a day from the partition index (after its partitions are gone)."""
        await self.store.execute(self._cql(DELETE_DAY_PARTITIONS), (day,))
        await self.store.execute(self._cql(DELETE_DAY), (DAY_BUCKET, day))
