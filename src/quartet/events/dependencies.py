"""`EventServiceDep` for the event endpoints and `Activity`, the app's activity writer, for any
feature that records what users do (`activity.record("order.placed", user.user_id, {...})`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.events.repository import EventRepository
from quartet.events.service import EventService
from quartet.events.writer import ActivityWriter
from quartet.stores.dependencies import Cassandra, StoresDep


async def get_event_service(cassandra: Cassandra, stores: StoresDep) -> EventService:
    """Async so FastAPI calls it on the loop (a plain `def` costs a thread-pool hop)."""
    return EventService(EventRepository(cassandra), stores.settings)


async def get_activity(request: Request) -> ActivityWriter:
    writer: ActivityWriter = request.app.state.activity
    return writer


EventServiceDep = Annotated[EventService, Depends(get_event_service)]
Activity = Annotated[ActivityWriter, Depends(get_activity)]
