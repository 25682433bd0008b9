"""Dashboard statistics: each section computed by its database and kept in the Redis cache for
DASHBOARD_CACHE_TTL_SECONDS (through `Cache.get_or_load`, so its generation guard applies);
sections that depend on "today" or on dates are keyed by the caller's time zone. Every
PostgreSQL section runs in its own short session, so `all_statistics` computes all of them,
MongoDB's and Cassandra's at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.core.clock import utcnow
from quartet.core.errors import ValidationFailedError
from quartet.dashboard.repository import EventStatistics, ShopStatistics, UserStatistics
from quartet.dashboard.schemas import (
    AllStatistics,
    Breakdown,
    Growth,
    GrowthPoint,
    Overview,
    Period,
    RecentSignIns,
    RoleStatistics,
)
from quartet.rbac.errors import UserNotFoundError
from quartet.stores.cache import Cache
from quartet.stores.registry import Stores
from quartet.users.cache import ProfileCache

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

MAX_POINTS = 1000
RECENT_SIGN_INS = 20
DEFAULT_SPAN = {"day": 29, "week": 11, "month": 11}
BREAKDOWNS = ("status", "type", "auth_type", "country", "language")


def period_start(day: date, period: Period) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def next_period(day: date, period: Period) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(weeks=1)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


class DashboardService:
    def __init__(self, stores: Stores, cache: Cache, profiles: ProfileCache) -> None:
        self.stores = stores
        self.cache = cache
        self.profiles = profiles

    async def _pg(self, work: Callable[[UserStatistics], Awaitable[T]]) -> T:
        async def run(session: AsyncSession) -> T:
            return await work(UserStatistics(session))

        return await self.stores.transactions.run(run)

    async def _cached(self, name: str, model: type[M], load: Callable[[], Awaitable[M]]) -> M:
        async def loaded() -> M | None:
            return await load()

        value = await self.cache.get_or_load(f"dashboard:{name}", model, loaded)
        assert value is not None  # load never answers None
        return value

    async def timezone_of(self, user_id: uuid.UUID) -> str:
        profile = await self.stores.transactions.run(lambda s: self.profiles.get(s, user_id))
        if profile is None:
            raise UserNotFoundError()
        return profile.timezone

    # -- sections --------------------------------------------------------------------------

    async def overview(self, tz: str) -> Overview:
        async def load() -> Overview:
            now = utcnow()
            zone = ZoneInfo(tz)
            today = local_midnight(now.astimezone(zone).date(), zone)
            users, (orders, revenue), events = await asyncio.gather(
                self._pg(
                    lambda u: u.totals(
                        today, now - timedelta(days=7), now - timedelta(days=30), now
                    )
                ),
                ShopStatistics(self.stores.mongo).totals(),
                EventStatistics(self.stores.cassandra).count_day(now.date()),
            )
            return Overview(**users, orders=orders, revenue=revenue, events_today=events)

        return await self._cached(f"overview:{tz}", Overview, load)

    async def breakdown(self, kind: str) -> Breakdown:
        async def load() -> Breakdown:
            return Breakdown(items=await self._pg(lambda u: u.breakdown(kind)))

        return await self._cached(f"users-by-{kind}", Breakdown, load)

    async def growth(self, tz: str, period: Period, start: date | None, end: date | None) -> Growth:
        zone = ZoneInfo(tz)
        last = period_start(end or utcnow().astimezone(zone).date(), period)
        if start is not None:
            first = period_start(start, period)
        elif period == "month":
            first = months_before(last, DEFAULT_SPAN["month"])
        else:
            step = 7 if period == "week" else 1
            first = last - timedelta(days=DEFAULT_SPAN[period] * step)
        if first > last:
            raise ValidationFailedError("from must not be after to")
        days = (last - first).days
        if days // {"day": 1, "week": 7, "month": 28}[period] >= MAX_POINTS:
            raise ValidationFailedError(f"at most {MAX_POINTS} periods per request")

        async def load() -> Growth:
            rows = await self._pg(
                lambda u: u.growth(
                    period,
                    tz,
                    local_midnight(first, zone),
                    local_midnight(next_period(last, period), zone),
                    datetime.combine(first, time()),
                    datetime.combine(last, time()),
                )
            )
            points = [GrowthPoint(start=d, count=n) for d, n in rows]
            return Growth(period=period, timezone=tz, points=points)

        return await self._cached(f"growth:{period}:{tz}:{first}:{last}", Growth, load)

    async def roles(self) -> RoleStatistics:
        async def load() -> RoleStatistics:
            return RoleStatistics(items=await self._pg(lambda u: u.groups()))

        return await self._cached("role-statistics", RoleStatistics, load)

    async def recent_sign_ins(self) -> RecentSignIns:
        async def load() -> RecentSignIns:
            return RecentSignIns(items=await self._pg(lambda u: u.recent_sign_ins(RECENT_SIGN_INS)))

        return await self._cached("recent-sign-ins", RecentSignIns, load)

    async def all_statistics(self, tz: str) -> AllStatistics:
        """Cached whole as well, so a warm answer costs one Redis round trip."""

        async def load() -> AllStatistics:
            breakdowns = asyncio.gather(*(self.breakdown(kind) for kind in BREAKDOWNS))
            overview, growth, roles, sign_ins, kinds = await asyncio.gather(
                self.overview(tz),
                self.growth(tz, "day", None, None),
                self.roles(),
                self.recent_sign_ins(),
                breakdowns,
            )
            by_kind = dict(zip(BREAKDOWNS, kinds, strict=True))
            return AllStatistics(
                overview=overview,
                users_by_status=by_kind["status"],
                users_by_type=by_kind["type"],
                users_by_auth_type=by_kind["auth_type"],
                users_by_country=by_kind["country"],
                users_by_language=by_kind["language"],
                user_growth=growth,
                role_statistics=roles,
                recent_sign_ins=sign_ins,
            )

        return await self._cached(f"all-statistics:{tz}", AllStatistics, load)
