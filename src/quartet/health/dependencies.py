"""The probes' service, built per request over the app's stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from quartet.health.service import HealthService, health_service
from quartet.stores.dependencies import StoresDep


async def get_health_service(stores: StoresDep) -> HealthService:
    return health_service(stores)


HealthServiceDep = Annotated[HealthService, Depends(get_health_service)]
