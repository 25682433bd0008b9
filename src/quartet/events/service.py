"""Event log rules: who may log what, the time windows read, deletion of old events.

Stateless; every read and write goes through EventRepository. A read over a time window visits
exactly the day partitions the window covers, newest first, and fills a page across partition
boundaries; the cursor records where it stopped (see quartet.events.cursor).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from quartet.auth.tokens import Principal
from quartet.core.clock import to_millis, utcnow
from quartet.core.deadline import remaining
from quartet.core.errors import NotFoundError, ValidationFailedError
from quartet.core.ids import uuid7, uuid7_time
from quartet.core.pagination import CursorPage
from quartet.events.cursor import CursorCodec, WindowCursor
from quartet.events.errors import EventIdTakenError
from quartet.events.models import Event, remaining_ttl
from quartet.events.permissions import EVENTS_ACTIVITY_READ_ANY, EVENTS_WRITE
from quartet.events.repository import TYPE, USER, EventRepository, PageFetch
from quartet.events.schemas import EventIn
from quartet.rbac.errors import PermissionDeniedError
from quartet.settings import Settings
from quartet.stores.cassandra import UNAVAILABLE_ERRORS

MAX_FUTURE = timedelta(minutes=1)
"""How far ahead of the server clock a timestamp may be (clock skew), and how far behind a
caller without events.write may be before it counts as a backfill."""
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
ACTIVITY_DEFAULT_SPAN = timedelta(days=30)
ACTIVITY_MAX_SPAN = timedelta(days=366)
WRITE_ATTEMPTS = 2
WRITE_RETRY_DELAY = 0.05
MIN_RETRY_BUDGET = 0.25
"""Seconds of the request's store deadline a retried write needs to be worth starting."""
DELETE_CHUNK = 500


@dataclass(frozen=True)
class DeleteReport:
    cutoff: datetime
    days: int
    partitions: int
    events: int


class EventService:
    def __init__(self, repository: EventRepository, settings: Settings) -> None:
        self.events = repository
        self.ttl_days = settings.EVENTS_TTL_DAYS
        self.cursors = CursorCodec(settings.SECRET_KEY.get_secret_value())

    # -- writes ----------------------------------------------------------------------------

    async def create(self, principal: Principal, data: EventIn) -> Event:
        """Anyone logs for themselves, now; with events.write, for another user or backfilled.
        With a client-chosen `event_id`, a repeat of an event already stored returns it (the
        client's retry after a timeout), and the id of a different event is a 409."""
        now = utcnow()
        own_id = str(principal.user_id)
        user_id = data.user_id or own_id
        if user_id != own_id and not principal.has(EVENTS_WRITE):
            raise PermissionDeniedError(EVENTS_WRITE)
        event_id = data.event_id or uuid7()
        timestamp = to_millis(data.timestamp or (uuid7_time(event_id) if data.event_id else now))
        event = Event(event_id, user_id, data.event_type, timestamp, data.metadata)
        if data.event_id is not None and (found := await self.events.get(data.event_id)):
            if found[0] != event:
                raise EventIdTakenError()
            return found[0]  # a retry of a write that landed: the same event, no new rows
        if timestamp > now + MAX_FUTURE:
            raise ValidationFailedError("timestamp is more than a minute in the future")
        if timestamp < EARLIEST:
            raise ValidationFailedError("timestamp is before 2000-01-01")
        if timestamp < now - MAX_FUTURE and not principal.has(EVENTS_WRITE):
            raise PermissionDeniedError(EVENTS_WRITE)
        ttl = self._ttl(timestamp, now)
        await self._write(lambda: self.events.insert(event, ttl))
        return event

    async def update(self, event_id: uuid.UUID, metadata: str | None) -> Event:
        """New metadata in every table holding the event, keeping its remaining life: the
        whole event written again (no partial row, and its partitions stay indexed even if
        delete-old ran meanwhile)."""
        found = await self.events.get(event_id)
        if found is None:
            raise NotFoundError("Event not found")
        event, ttl = found
        updated = Event(event.event_id, event.user_id, event.event_type, event.timestamp, metadata)
        await self._write(lambda: self.events.insert(updated, ttl))
        return updated

    def _ttl(self, timestamp: datetime, now: datetime) -> int:
        ttl = remaining_ttl(self.ttl_days, timestamp, now)
        if ttl is None:
            raise ValidationFailedError(
                f"timestamp is older than the {self.ttl_days}-day retention of events"
            )
        return ttl

    @staticmethod
    async def _write(write: Callable[[], Awaitable[None]]) -> None:
        """One retry after a timeout or outage, if the request's deadline leaves room: safe,
        because an event's writes are upserts of the same rows (no duplicate even if the first
        attempt landed)."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                await write()
                return
            except UNAVAILABLE_ERRORS:
                left = remaining()
                if attempt == WRITE_ATTEMPTS or (left is not None and left < MIN_RETRY_BUDGET):
                    raise
                await asyncio.sleep(WRITE_RETRY_DELAY)

    # -- reads -----------------------------------------------------------------------------

    async def by_type(
        self, event_type: str, hours: int, limit: int, cursor: str | None
    ) -> CursorPage[Event]:
        until = to_millis(utcnow())
        fetch = self.events.pages_by_type(event_type)
        since = until - timedelta(hours=hours)
        return await self._window(f"logs:{event_type}", fetch, since, until, limit, cursor)

    async def activity(
        self,
        principal: Principal,
        *,
        user_id: str | None,
        event_type: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> CursorPage[Event]:
        """The caller's own events; with events.activity_read_any, anyone's."""
        own_id = str(principal.user_id)
        user_id = user_id or own_id
        if user_id != own_id and not principal.has(EVENTS_ACTIVITY_READ_ANY):
            raise PermissionDeniedError(EVENTS_ACTIVITY_READ_ANY)
        if any(bound is not None and bound < EARLIEST for bound in (since, until)):
            raise ValidationFailedError("since and until must be after 2000-01-01")
        until = to_millis(until or utcnow())
        since = to_millis(since or until - ACTIVITY_DEFAULT_SPAN)
        if since >= until:
            raise ValidationFailedError("since must be before until")
        if until - since > ACTIVITY_MAX_SPAN:
            raise ValidationFailedError("the window may span at most 366 days")
        fetch = self.events.pages_by_user(user_id, event_type)
        scope = f"activity:{user_id}:{event_type or ''}"
        return await self._window(scope, fetch, since, until, limit, cursor)

    async def activity_event(self, principal: Principal, event_id: uuid.UUID) -> Event:
        """The owner or a holder of events.activity_read_any; anyone else cannot tell it from
        an unknown id."""
        found = await self.events.get(event_id)
        if found is None:
            raise NotFoundError("Event not found")
        event = found[0]
        if event.user_id != str(principal.user_id) and not principal.has(EVENTS_ACTIVITY_READ_ANY):
            raise NotFoundError("Event not found")
        return event

    async def _window(
        self,
        scope: str,
        fetch: PageFetch,
        since: datetime,
        until: datetime,
        limit: int,
        cursor: str | None,
    ) -> CursorPage[Event]:
        """Up to `limit` events of [since, until], newest first, walking the day partitions
        from until's day back to since's; a cursor fixes the window of its first page."""
        day, state = until.date(), None
        if cursor is not None:
            position = self.cursors.decode(scope, cursor)
            since, until, day, state = (
                position.since,
                position.until,
                position.day,
                position.paging_state,
            )
        first_day = since.date()
        events: list[Event] = []
        while True:
            page, state = await fetch(day, since, until, limit - len(events), state)
            events.extend(page)
            if state is None:
                if day <= first_day:
                    return CursorPage.model_construct(items=events, next_cursor=None)
                day -= timedelta(days=1)
            if len(events) >= limit:
                position = WindowCursor(since, until, day, state)
                next_cursor = self.cursors.encode(scope, position)
                return CursorPage.model_construct(items=events, next_cursor=next_cursor)

    # -- deletion --------------------------------------------------------------------------

    async def delete_older_than(self, days: int) -> DeleteReport:
        """Whole day buckets before the cutoff's day go partition by partition (found in the
        index, never by scanning); the cutoff's own day is trimmed with range deletes.
        Order: by-id rows, by-user, by-type, then the index, so a run that fails midway
        leaves what it has not done findable and can simply be repeated."""
        cutoff = to_millis(utcnow() - timedelta(days=days))
        whole_days = await self.events.days_before(cutoff.date())
        partitions = events = 0
        for day in whole_days:
            found = await self._purge_day(day, None)
            partitions, events = partitions + found[0], events + found[1]
            await self.events.forget_day(day)
        found = await self._purge_day(cutoff.date(), cutoff)
        return DeleteReport(cutoff, len(whole_days), partitions + found[0], events + found[1])

    async def _purge_day(self, day: date, before: datetime | None) -> tuple[int, int]:
        """Events of `day` (before `before`, or all); returns (partitions, events) removed,
        counting the partitions that held such events."""
        index = await self.events.partitions(day)
        types = [key for kind, key in index if kind == TYPE]
        owners: set[str] = set()
        with_events: list[str] = []
        events = 0
        for event_type in types:
            removed = await self._delete_by_id(event_type, day, before, owners)
            events += removed
            if removed:
                with_events.append(event_type)
        # A whole day drops every listed partition (also ones TTL already emptied).
        users = owners | {key for kind, key in index if kind == USER} if before is None else owners
        for user_id in users:
            await self.events.delete_user_partition(user_id, day, before)
        for event_type in types if before is None else with_events:
            await self.events.delete_type_partition(event_type, day, before)
        return len(owners) + len(with_events), events

    async def _delete_by_id(
        self, event_type: str, day: date, before: datetime | None, owners: set[str]
    ) -> int:
        """By-id rows of one by-type partition's (old) events, streamed in chunks; adds their
        users to `owners` and returns how many went."""
        ids: list[uuid.UUID] = []
        removed = 0
        async for event_id, user_id in self.events.ids_in_type_partition(event_type, day, before):
            ids.append(event_id)
            owners.add(user_id)
            if len(ids) == DELETE_CHUNK:
                await self.events.delete_by_ids(ids)
                removed, ids = removed + len(ids), []
        await self.events.delete_by_ids(ids)
        return removed + len(ids)
