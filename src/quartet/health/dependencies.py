"""The probes' service: one per app, made on first use (probes run often, and building it per
request cost more than the liveness answer itself)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.health.service import HealthService, health_service


async def get_health_service(request: Request) -> HealthService:
    state = request.app.state
    service: HealthService | None = getattr(state, "health_service", None)
    if service is None:
        service = state.health_service = health_service(state.stores)
    return service


HealthServiceDep = Annotated[HealthService, Depends(get_health_service)]
