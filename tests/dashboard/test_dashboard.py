"""/dashboard: permission, numbers equal to a recomputation from the raw data, zero-filled
growth in the caller's time zone, the cache, and the growth query's index at 100k users."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.auth.models import AuthSession
from quartet.core.clock import utcnow
from quartet.dashboard.repository import UserStatistics
from quartet.events.repository import TYPE, EventRepository
from quartet.posts.models import Post
from quartet.rbac.models import Group, UserGroup
from quartet.shop.repository import OrderRepository
from quartet.stores.registry import Stores
from quartet.users.models import User
from tests.accounts import SignedIn, sign_up, sign_up_superuser
from tests.rbac.helpers import member_of


async def _admin(http: httpx.AsyncClient, api: str, stores: Stores, zone: str) -> SignedIn:
    admin = await member_of(http, api, stores, "admin")
    changed = await http.post(
        f"{api}/settings/update-timezone", json={"timezone": zone}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    return admin


async def _quiet(app: FastAPI) -> None:
    """Wait until the activity writer has written what it holds."""
    for _ in range(100):
        if app.state.activity.stats()["pending"] == 0:
            return
        await asyncio.sleep(0.05)


async def test_the_dashboard_needs_dashboard_read(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    for path in ("overview", "users-by-country", "user-growth", "all-statistics"):
        response = await client.get(f"{api}/dashboard/{path}", headers=user.headers)
        assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    assert (await client.get(f"{api}/dashboard/overview")).status_code == 401


async def _recompute(stores: Stores, zone_today: datetime) -> dict[str, Any]:
    now = utcnow()
    async with stores.sessionmaker() as session:
        users = (await session.scalars(select(User))).all()
        sessions = (await session.scalars(select(AuthSession))).all()
        posts = len((await session.scalars(select(Post))).all())
        groups = (await session.scalars(select(Group))).all()
        members = Counter(m.group_id for m in (await session.scalars(select(UserGroup))).all())
    orders = [o async for o in OrderRepository(stores.mongo).collection.find({})]
    events = EventRepository(stores.cassandra)
    today = now.date()
    events_today = 0
    for kind, key in await events.partitions(today):
        if kind == TYPE:
            events_today += len([i async for i in events.ids_in_type_partition(key, today, None)])

    def by(field: Any) -> list[dict[str, Any]]:
        counts = Counter(field(u) for u in users)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
        return [{"key": k, "count": n} for k, n in ordered]

    return {
        "overview": {
            "users": len(users),
            "active_users": sum(u.is_active for u in users),
            "verified_users": sum(u.is_email_verified for u in users),
            "new_today": sum(u.created_at >= zone_today for u in users),
            "new_7d": sum(u.created_at >= now - timedelta(days=7) for u in users),
            "new_30d": sum(u.created_at >= now - timedelta(days=30) for u in users),
            "live_sessions": sum(s.revoked_at is None and s.expires_at > now for s in sessions),
            "posts": posts,
            "orders": len(orders),
            "revenue": sum((Decimal(str(o["total"])) for o in orders), Decimal("0")),
            "events_today": events_today,
        },
        "status": by(lambda u: u.status),
        "country": by(lambda u: u.country),
        "language": by(lambda u: u.language),
        "auth_type": by(lambda u: u.auth_type),
        "type": by(lambda u: "superuser" if u.is_superuser else "user"),
        "groups": {g.codename: members[g.id] for g in groups},
    }


async def test_numbers_equal_a_recomputation_from_the_raw_data(
    raw_client: httpx.AsyncClient, api: str, stores: Stores, app: FastAPI
) -> None:
    for country, language in (("FR", "fr"), ("FR", "fr"), ("JP", "en"), (None, "de")):
        account = await sign_up(raw_client, api)
        if country is not None:
            await raw_client.put(
                f"{api}/settings/profile", json={"country": country}, headers=account.headers
            )
        await raw_client.post(
            f"{api}/settings/profile-language", json={"language": language}, headers=account.headers
        )
    seller = await sign_up_superuser(raw_client, api, stores)
    product = await raw_client.post(
        f"{api}/products/",
        json={"name": "dash", "category": "dash", "price": "2.25", "stock": 9},
        headers=seller.headers,
    )
    ordered = await raw_client.post(
        f"{api}/orders/",
        json={"items": [{"product_id": product.json()["id"], "quantity": 3}]},
        headers=seller.headers,
    )
    assert ordered.status_code == 201, ordered.text
    admin = await _admin(raw_client, api, stores, "America/New_York")
    await _quiet(app)
    response = await raw_client.get(f"{api}/dashboard/all-statistics", headers=admin.headers)
    assert response.status_code == 200, response.text
    stats = response.json()
    zone_today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York"))
    midnight = zone_today.replace(hour=0, minute=0, second=0, microsecond=0)
    expected = await _recompute(stores, midnight)
    overview = {**stats["overview"], "revenue": Decimal(stats["overview"]["revenue"])}
    assert overview == expected["overview"]
    for kind in ("status", "country", "language", "auth_type", "type"):
        got = stats[f"users_by_{kind}"]["items"]
        assert sorted(map(str, got)) == sorted(map(str, expected[kind])), kind
    assert {g["codename"]: g["members"] for g in stats["role_statistics"]["items"]} == expected[
        "groups"
    ]
    sign_ins = stats["recent_sign_ins"]["items"]
    assert sign_ins[0]["user_id"] == str(admin.id)  # the latest login
    assert [s["at"] for s in sign_ins] == sorted((s["at"] for s in sign_ins), reverse=True)
    single = await raw_client.get(f"{api}/dashboard/users-by-country", headers=admin.headers)
    assert single.json() == stats["users_by_country"]


async def test_answers_are_cached_briefly_and_the_cache_is_redis(
    raw_client: httpx.AsyncClient, api: str, stores: Stores, app: FastAPI
) -> None:
    admin = await _admin(raw_client, api, stores, "UTC")
    first = (await raw_client.get(f"{api}/dashboard/overview", headers=admin.headers)).json()
    await sign_up(raw_client, api)
    cached = (await raw_client.get(f"{api}/dashboard/overview", headers=admin.headers)).json()
    assert cached["users"] == first["users"]  # within DASHBOARD_CACHE_TTL_SECONDS
    key = app.state.dashboard_cache.key("dashboard:overview:UTC")
    assert 0 < await stores.redis.ttl(key) <= stores.settings.DASHBOARD_CACHE_TTL_SECONDS
    await stores.redis.unlink(key)
    fresh = (await raw_client.get(f"{api}/dashboard/overview", headers=admin.headers)).json()
    assert fresh["users"] == first["users"] + 1


async def test_growth_is_zero_filled_in_the_callers_timeZoneInfo(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    created = [datetime(1992, 3, 5, 16, tzinfo=UTC), datetime(1992, 3, 7, 3, tzinfo=UTC)]
    for at in created:  # 1992: no other account of the run was created then
        account = await sign_up(raw_client, api)
        async with stores.sessionmaker() as session, session.begin():
            await session.execute(
                update(User).where(col(User.id) == account.id).values(created_at=at)
            )
    admin = await _admin(raw_client, api, stores, "Asia/Tokyo")

    async def growth(**params: str) -> list[tuple[str, int]]:
        response = await raw_client.get(
            f"{api}/dashboard/user-growth", params=params, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["timezone"] == "Asia/Tokyo"
        return [(p["start"], p["count"]) for p in response.json()["points"]]

    # 1992-03-05 16:00 UTC is already the 6th in Tokyo
    assert await growth(period="day", **{"from": "1992-03-04", "to": "1992-03-08"}) == [
        ("1992-03-04", 0),
        ("1992-03-05", 0),
        ("1992-03-06", 1),
        ("1992-03-07", 1),
        ("1992-03-08", 0),
    ]
    assert await growth(period="week", **{"from": "1992-02-25", "to": "1992-03-10"}) == [
        ("1992-02-24", 0),
        ("1992-03-02", 2),
        ("1992-03-09", 0),
    ]
    assert await growth(period="month", **{"from": "1992-01-15", "to": "1992-04-02"}) == [
        ("1992-01-01", 0),
        ("1992-02-01", 0),
        ("1992-03-01", 2),
        ("1992-04-01", 0),
    ]
    default = await growth()
    assert len(default) == 30
    assert default[-1][0] == utcnow().astimezone(ZoneInfo("Asia/Tokyo")).date().isoformat()
    backwards = await raw_client.get(
        f"{api}/dashboard/user-growth",
        params={"from": "1992-03-08", "to": "1992-03-01"},
        headers=admin.headers,
    )
    assert backwards.status_code == 422
    too_long = await raw_client.get(
        f"{api}/dashboard/user-growth",
        params={"from": "1900-01-01", "to": "1999-01-01"},
        headers=admin.headers,
    )
    assert too_long.status_code == 422


SEED_CHUNK = 5_000
SEED_USERS = text(
    """
    INSERT INTO users (id, created_at, updated_at, email, is_active, is_superuser,
        is_email_verified, is_phone_verified, status, auth_type, language, timezone,
        authz_version, profile_visibility, show_email, show_phone, show_country, theme)
    SELECT gen_random_uuid(), now() - make_interval(mins => n), now(),
        'seed' || n || '@explain.invalid', true, false, n % 2 = 0, false, 'active',
        'password', 'en', 'UTC', 0, 'public', false, false, true, 'system'
    FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
    """
)


async def test_growth_uses_the_created_at_index_at_100k_users(db: AsyncSession) -> None:
    for first in range(1, 100_000, SEED_CHUNK):  # rolled back with the test
        await db.execute(SEED_USERS, {"first": first, "last": first + SEED_CHUNK - 1})
    await db.execute(text("ANALYZE users"))
    now = utcnow()
    plan = await UserStatistics(db).explain_growth("day", "UTC", now - timedelta(days=30), now)
    assert "ix_users_created_at" in plan, plan
