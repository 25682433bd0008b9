"""The dashboard's aggregations, each computed by its database (GROUP BY, date_trunc and
generate_series in PostgreSQL, a $group pipeline in MongoDB, COUNT per partition in Cassandra):
no rows are loaded into Python to be counted."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.audit.models import AuditLog
from quartet.auth.models import AuthSession
from quartet.dashboard.schemas import Bucket, GroupCount, Period, SignIn
from quartet.events.repository import TYPE, EventRepository
from quartet.posts.models import Post
from quartet.rbac.models import Group, UserGroup
from quartet.shop.repository import OrderRepository
from quartet.stores.cassandra import CassandraStore
from quartet.stores.mongo import MongoDatabase
from quartet.users.models import User

SIGN_IN_ACTION = "auth.login"
COUNT_TYPE_PARTITION = (
    "SELECT COUNT(*) AS n FROM {ks}.events_by_type WHERE event_type = ? AND day = ?"
)
PARTITION_COUNT_CONCURRENCY = 32

GROWTH = text(
    """
    WITH counts AS (
        SELECT date_trunc(:period, created_at AT TIME ZONE :tz) AS bucket, count(*) AS n
        FROM users
        WHERE created_at >= :start AND created_at < :end
        GROUP BY 1
    )
    SELECT CAST(s.bucket AS date) AS start, coalesce(c.n, 0) AS count
    FROM generate_series(
        CAST(:first AS timestamp),
        CAST(:last AS timestamp),
        CAST(concat('1 ', CAST(:period AS text)) AS interval)
    ) AS s(bucket)
    LEFT JOIN counts AS c ON c.bucket = s.bucket
    ORDER BY s.bucket
    """
)

USER_KINDS: dict[str, Any] = {
    "status": col(User.status),
    "type": case((col(User.is_superuser), "superuser"), else_="user"),
    "auth_type": col(User.auth_type),
    "country": col(User.country),
    "language": col(User.language),
}


class UserStatistics:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def totals(
        self, today: datetime, week: datetime, month: datetime, now: datetime
    ) -> dict[str, int]:
        created = col(User.created_at)
        users = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count().filter(col(User.is_active)),
                    func.count().filter(col(User.is_email_verified)),
                    func.count().filter(created >= today),
                    func.count().filter(created >= week),
                    func.count().filter(created >= month),
                ).select_from(User)
            )
        ).one()
        live = await self.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(col(AuthSession.revoked_at).is_(None), col(AuthSession.expires_at) > now)
        )
        posts = await self.session.scalar(select(func.count()).select_from(Post))
        keys = ("users", "active_users", "verified_users", "new_today", "new_7d", "new_30d")
        return {
            **dict(zip(keys, (int(v) for v in users), strict=True)),
            "live_sessions": int(live or 0),
            "posts": int(posts or 0),
        }

    async def breakdown(self, kind: str) -> list[Bucket]:
        key = USER_KINDS[kind].label("key")
        count = func.count().label("n")
        rows = await self.session.execute(
            select(key, count).select_from(User).group_by(key).order_by(count.desc(), key)
        )
        return [Bucket(key=k, count=int(n)) for k, n in rows.all()]

    async def growth(
        self,
        period: Period,
        tz: str,
        start: datetime,
        end: datetime,
        first: datetime,
        last: datetime,
    ) -> list[tuple[date, int]]:
        """Accounts created in [start, end) per `period` in time zone `tz`; `first`..`last`
        are the local starts of the first and last periods (naive), every one answered."""
        rows = await self.session.execute(
            GROWTH,
            {
                "period": period,
                "tz": tz,
                "start": start,
                "end": end,
                "first": first,
                "last": last,
            },
        )
        return [(start, int(count)) for start, count in rows.all()]

    async def explain_growth(self, period: Period, tz: str, start: datetime, end: datetime) -> str:
        """The plan of the growth query's scan (for the index test)."""
        statement = text(
            "EXPLAIN SELECT date_trunc(:period, created_at AT TIME ZONE :tz), count(*)"
            " FROM users WHERE created_at >= :start AND created_at < :end GROUP BY 1"
        )
        rows = await self.session.execute(
            statement, {"period": period, "tz": tz, "start": start, "end": end}
        )
        return "\n".join(r[0] for r in rows.all())

    async def groups(self) -> list[GroupCount]:
        members = func.count(col(UserGroup.user_id))
        rows = await self.session.execute(
            select(col(Group.codename), col(Group.name), col(Group.is_active), members)
            .outerjoin(UserGroup, col(UserGroup.group_id) == col(Group.id))
            .group_by(col(Group.id))
            .order_by(col(Group.codename))
        )
        return [
            GroupCount(codename=c, name=n, is_active=a, members=int(m)) for c, n, a, m in rows.all()
        ]

    async def recent_sign_ins(self, limit: int) -> list[SignIn]:
        rows = await self.session.execute(
            select(
                col(AuditLog.user_id),
                col(User.email),
                col(User.full_name),
                col(AuditLog.ip),
                col(AuditLog.data)["method"].astext,
                col(AuditLog.created_at),
            )
            .outerjoin(User, col(User.id) == col(AuditLog.user_id))
            .where(col(AuditLog.action) == SIGN_IN_ACTION)
            .order_by(col(AuditLog.created_at).desc())
            .limit(limit)
        )
        return [
            SignIn(user_id=u, email=e, full_name=f, ip=i, method=m, at=t)
            for u, e, f, i, m, t in rows.all()
        ]


def order_totals_pipeline() -> list[dict[str, Any]]:
    return [{"$group": {"_id": None, "orders": {"$sum": 1}, "revenue": {"$sum": "$total"}}}]


class ShopStatistics:
    def __init__(self, db: MongoDatabase) -> None:
        self.orders = OrderRepository(db)

    async def totals(self) -> tuple[int, Decimal]:
        rows = await self.orders.aggregate(order_totals_pipeline())
        if not rows:
            return 0, Decimal("0.00")
        revenue = rows[0]["revenue"]
        return int(rows[0]["orders"]), Decimal(str(revenue)) if revenue is not None else Decimal(0)


class EventStatistics:
    def __init__(self, store: CassandraStore) -> None:
        self.store = store
        self.events = EventRepository(store)

    async def count_day(self, day: date) -> int:
        """Events of one UTC day: COUNT(*) of each by-type partition the index lists."""
        types = [key for kind, key in await self.events.partitions(day) if kind == TYPE]
        query = COUNT_TYPE_PARTITION.replace("{ks}", self.store.keyspace)
        limit = asyncio.Semaphore(PARTITION_COUNT_CONCURRENCY)

        async def count(event_type: str) -> int:
            async with limit:
                page = await self.store.execute(query, (event_type, day))
            return int(page.rows[0]["n"]) if page.rows else 0

        return sum(await asyncio.gather(*(count(t) for t in types)))
