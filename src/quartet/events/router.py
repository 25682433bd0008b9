"""/logs (the event log API of seed 002) and /activity (the caller's feed, seed 003)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser
from quartet.core.errors import (
    NotFoundError,
    StoreUnavailableError,
    ValidationFailedError,
    responses,
)
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.events.dependencies import EventServiceDep
from quartet.events.errors import EventIdTakenError
from quartet.events.permissions import EVENTS_PURGE, EVENTS_READ, EVENTS_WRITE
from quartet.events.schemas import (
    Days,
    DeleteOldOut,
    EventIn,
    EventOut,
    EventTypeFilter,
    EventTypeQuery,
    Hours,
    LogLimit,
    MetadataIn,
    Since,
    Until,
    UserKeyFilter,
)
from quartet.idempotency.dependencies import IDEMPOTENCY_ERRORS, Idempotent
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission
from quartet.rbac.errors import PermissionDeniedError

logs = APIRouter(
    prefix="/logs", tags=["events"], responses=responses(*PERMISSION_ERRORS, StoreUnavailableError)
)
activity = APIRouter(
    prefix="/activity",
    tags=["activity"],
    responses=responses(*AUTHENTICATION_ERRORS, StoreUnavailableError),
)


@logs.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses=responses(ValidationFailedError, EventIdTakenError, *IDEMPOTENCY_ERRORS),
    summary="Log an event (for another user or in the past: events.write)",
    dependencies=[Idempotent],
)
async def create_event(body: EventIn, user: CurrentUser, service: EventServiceDep) -> EventOut:
    """Writes an event to the log tables; an event_id already used is a 409."""
    return EventOut.model_validate(await service.create(user, body))


@logs.get(
    "/",
    responses=responses(ValidationFailedError),
    dependencies=[RequirePermission(EVENTS_READ)],
    summary="One event type's events of the last `hours`, newest first (events.read)",
)
async def list_events(
    event_type: EventTypeQuery,
    service: EventServiceDep,
    hours: Hours = 24,
    limit: LogLimit = 100,
    cursor: Cursor = None,
) -> CursorPage[EventOut]:
    """A window of one event type, paginated with an opaque cursor."""
    return CursorPage[EventOut].model_validate(
        await service.by_type(event_type, hours, limit, cursor)
    )


@logs.put(
    "/{event_id}",
    responses=responses(NotFoundError),
    dependencies=[RequirePermission(EVENTS_WRITE)],
    summary="Replace an event's metadata in every table holding it (events.write)",
)
async def update_event(event_id: uuid.UUID, body: MetadataIn, service: EventServiceDep) -> EventOut:
    """Replaces the metadata of an event everywhere it is stored."""
    return EventOut.model_validate(await service.update(event_id, body.metadata))


@logs.delete(
    "/old",
    dependencies=[RequirePermission(EVENTS_PURGE)],
    summary="Delete events older than `days` (events.purge)",
)
async def delete_old_events(service: EventServiceDep, days: Days = 7) -> DeleteOldOut:
    """Deletes the day buckets older than `days` and answers the cutoff and what was removed."""
    report = await service.delete_older_than(days)
    return DeleteOldOut(
        cutoff=report.cutoff, days=report.days, partitions=report.partitions, events=report.events
    )


@activity.get(
    "",
    responses=responses(PermissionDeniedError, ValidationFailedError),
    summary="The caller's activity, newest first (with events.activity_read_any, anyone's)",
)
async def list_activity(
    user: CurrentUser,
    service: EventServiceDep,
    user_id: UserKeyFilter = None,
    event_type: EventTypeFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CursorPage[EventOut]:
    """Activity events, optionally of one user, paginated with an opaque cursor."""
    result = await service.activity(
        user,
        user_id=user_id,
        event_type=event_type,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return CursorPage[EventOut].model_validate(result)


@activity.get(
    "/{event_id}",
    responses=responses(NotFoundError),
    summary="One activity event (its owner, or events.activity_read_any; else 404)",
)
async def read_activity_event(
    event_id: uuid.UUID, user: CurrentUser, service: EventServiceDep
) -> EventOut:
    """One event of the caller's (or, with events.activity_read_any, anyone's) activity; anything
    else is a 404."""
    return EventOut.model_validate(await service.activity_event(user, event_id))


router = APIRouter()
router.include_router(logs)
router.include_router(activity)
