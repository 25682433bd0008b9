"""The dashboard service over the app's stores and caches, and the caller's time zone, which
"today" and every date section follow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.dependencies import CurrentUser
from quartet.dashboard.service import DashboardService
from quartet.users.cache import ProfileCache


async def get_dashboard(request: Request) -> DashboardService:
    state = request.app.state
    return DashboardService(state.stores, state.dashboard_cache, ProfileCache(state.cache))


DashboardServiceDep = Annotated[DashboardService, Depends(get_dashboard)]


async def get_caller_timezone(caller: CurrentUser, dashboard: DashboardServiceDep) -> str:
    """The caller's `timezone` setting; an account gone since its token was issued is a 404."""
    return await dashboard.timezone_of(caller.user_id)


CallerTimezone = Annotated[str, Depends(get_caller_timezone)]
