"""`EventServiceDep` for the event endpoints. Features record what users do through
`quartet.audit.trail.record_action`, whose announcement the app's activity writer hears."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.events.repository import EventRepository
from quartet.events.service import EventService
from quartet.stores.dependencies import CassandraStoreDep, StoresDep


async def get_event_service(cassandra: CassandraStoreDep, stores: StoresDep) -> EventService:
    """Async so FastAPI calls it on the loop (a plain `def` costs a thread-pool hop)."""
    return EventService(EventRepository(cassandra), stores.settings)


EventServiceDep = Annotated[EventService, Depends(get_event_service)]
