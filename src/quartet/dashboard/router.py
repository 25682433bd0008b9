"""/dashboard (dashboard.read): statistics over users, groups, sign-ins, the shop and the event
log. Dates and "today" follow the caller's time zone (their `timezone` setting)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from quartet.core.errors import (
    StoreUnavailableError,
    ValidationFailedError,
    responses,
)
from quartet.dashboard.dependencies import CallerTimezone, DashboardServiceDep
from quartet.dashboard.permissions import DASHBOARD_READ
from quartet.dashboard.schemas import (
    AllStatistics,
    Breakdown,
    Growth,
    Overview,
    Period,
    RecentSignIns,
    RoleStatistics,
)
from quartet.rbac.dependencies import PERMISSION_ERRORS, RequirePermission

router = APIRouter(
    prefix="/dashboard",
    tags=["dashboard"],
    dependencies=[RequirePermission(DASHBOARD_READ)],
    responses=responses(*PERMISSION_ERRORS, StoreUnavailableError),
)


@router.get("/overview", summary="Totals across the four stores")
async def overview(tz: CallerTimezone, dashboard: DashboardServiceDep) -> Overview:
    """Totals of users, orders, revenue and events, with today's in the caller's time zone."""
    return await dashboard.overview(tz)


def _breakdown(kind: str, title: str) -> None:
    async def endpoint(dashboard: DashboardServiceDep) -> Breakdown:
        return await dashboard.breakdown(kind)

    path = f"/users-by-{kind.replace('_', '-')}"
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        summary=f"Users grouped by {title}",
        description=f"The number of users per {title}.",
        name=f"users_by_{kind}",
    )


for _kind, _title in (
    ("status", "status"),
    ("type", "type (superuser or user)"),
    ("auth_type", "how they sign in"),
    ("country", "country"),
    ("language", "language"),
):
    _breakdown(_kind, _title)


@router.get(
    "/user-growth",
    responses=responses(ValidationFailedError),
    summary="New accounts per day, week or month in my time zone, zero-filled",
)
async def user_growth(
    tz: CallerTimezone,
    dashboard: DashboardServiceDep,
    period: Period = "day",
    start: Annotated[date | None, Query(alias="from", description="first day (local)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day (local)")] = None,
) -> Growth:
    """Buckets of new accounts for the chosen period and span."""
    return await dashboard.growth(tz, period, start, end)


@router.get("/role-statistics", summary="Members per group")
async def role_statistics(dashboard: DashboardServiceDep) -> RoleStatistics:
    """Each group with its member count."""
    return await dashboard.roles()


@router.get("/recent-sign-ins", summary="The latest sign-ins (audit log)")
async def recent_sign_ins(dashboard: DashboardServiceDep) -> RecentSignIns:
    """The most recent logins from the audit log."""
    return await dashboard.recent_sign_ins()


@router.get(
    "/all-statistics",
    summary="Every section above in one answer, computed concurrently across the stores",
)
async def all_statistics(tz: CallerTimezone, dashboard: DashboardServiceDep) -> AllStatistics:
    """The sections of the other dashboard endpoints, fetched concurrently."""
    return await dashboard.all_statistics(tz)
