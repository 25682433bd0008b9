from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from quartet.core.schemas import examples

Period = Literal["day", "week", "month"]


class Overview(BaseModel):
    """Totals across the stores; "today" starts at midnight in the caller's time zone, except
    `events_today` (the event log is bucketed by UTC day)."""

    model_config = examples(
        {
            "users": 1200,
            "active_users": 1150,
            "verified_users": 900,
            "new_today": 4,
            "new_7d": 40,
            "new_30d": 160,
            "live_sessions": 210,
            "posts": 5400,
            "orders": 830,
            "revenue": "41250.00",
            "events_today": 9100,
        }
    )

    users: int
    active_users: int
    verified_users: int
    new_today: int
    new_7d: int
    new_30d: int
    live_sessions: int
    posts: int
    orders: int
    revenue: Decimal
    events_today: int


class Bucket(BaseModel):
    """One group of a breakdown (`key` null: the field is not set)."""

    key: str | None
    count: int


class Breakdown(BaseModel):
    model_config = examples({"items": [{"key": "active", "count": 1150}]})

    items: list[Bucket]


class GrowthPoint(BaseModel):
    start: date
    count: int


class Growth(BaseModel):
    """New accounts per period in the caller's time zone, every period present (zeros too)."""

    model_config = examples(
        {
            "period": "day",
            "timezone": "Europe/Paris",
            "points": [
                {"start": "2026-11-30", "count": 3},
                {"start": "2026-12-01", "count": 0},
            ],
        }
    )

    period: Period
    timezone: str
    points: list[GrowthPoint]


class GroupCount(BaseModel):
    codename: str
    name: str
    is_active: bool
    members: int


class RoleStatistics(BaseModel):
    items: list[GroupCount]


class SignIn(BaseModel):
    user_id: uuid.UUID | None
    email: str | None
    full_name: str | None
    ip: str | None
    method: str | None
    at: datetime


class RecentSignIns(BaseModel):
    items: list[SignIn]


class AllStatistics(BaseModel):
    overview: Overview
    users_by_status: Breakdown
    users_by_type: Breakdown
    users_by_auth_type: Breakdown
    users_by_country: Breakdown
    users_by_language: Breakdown
    user_growth: Growth
    role_statistics: RoleStatistics
    recent_sign_ins: RecentSignIns
