from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.sessions.repository import ActivitySessionRepository
from quartet.sessions.service import SessionService
from quartet.stores.dependencies import StoresDep


async def get_session_service(stores: StoresDep) -> SessionService:
    return SessionService(ActivitySessionRepository.from_settings(stores.redis, stores.settings))


SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
