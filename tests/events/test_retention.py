"""EVENTS_TTL_DAYS: events expire that many days after their own timestamp, an update keeps the
remaining life, and a backfill already past the retention is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from quartet.events.repository import EventRepository
from tests.accounts import sign_up_superuser, unique
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.events.helpers import drained, iso

DAY = 86_400


async def test_events_live_for_the_retention_counted_from_their_timestamp(
    app: FastAPI, api: str
) -> None:
    async with dedicated_app(EVENTS_TTL_DAYS=2) as retained, http_for(retained) as http:
        admin = await sign_up_superuser(http, api, retained.state.stores)
        repository = EventRepository(retained.state.stores.cassandra)
        kind = unique("ttl.")
        now = datetime.now(UTC)

        async def ttl_of(event_id: str) -> int:
            found = await repository.get(uuid.UUID(event_id))
            assert found is not None
            return found[1]

        fresh = await http.post(f"{api}/logs/", json={"event_type": kind}, headers=admin.headers)
        assert 2 * DAY - 60 < await ttl_of(fresh.json()["event_id"]) <= 2 * DAY

        day_old = await http.post(
            f"{api}/logs/",
            json={"event_type": kind, "timestamp": iso(now - timedelta(days=1))},
            headers=admin.headers,
        )
        assert day_old.status_code == 201
        ttl = await ttl_of(day_old.json()["event_id"])
        assert DAY - 60 < ttl <= DAY

        updated = await http.put(
            f"{api}/logs/{day_old.json()['event_id']}",
            json={"metadata": "later"},
            headers=admin.headers,
        )
        assert updated.status_code == 200
        assert ttl - 60 < await ttl_of(day_old.json()["event_id"]) <= ttl

        too_old = await http.post(
            f"{api}/logs/",
            json={"event_type": kind, "timestamp": iso(now - timedelta(days=2, minutes=1))},
            headers=admin.headers,
        )
        assert too_old.status_code == 422
        assert "2-day retention" in too_old.json()["detail"]

        # The activity writer's events get the same retention.
        await drained(retained.state.activity)
        feed = await http.get(f"{api}/activity", headers=admin.headers)
        login = next(e for e in feed.json()["items"] if e["event_type"] == "auth.login")
        assert 2 * DAY - 60 < await ttl_of(login["event_id"]) <= 2 * DAY
