"""DELETE /logs/old: whole old day buckets dropped through the partition index, the cutoff's own
day trimmed to the instant, newer events untouched, and a second run finding nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from quartet.events.repository import EventRepository
from quartet.stores.registry import Stores
from tests.accounts import sign_up_superuser, unique
from tests.events.helpers import iso, parse

DAYS = 400  # far older than anything other tests write, so the report's figures are exact


async def test_delete_old_removes_exactly_the_events_before_the_cutoff(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    admin = await sign_up_superuser(client, api, stores)
    kinds = [unique("purge.a."), unique("purge.b.")]
    users = [unique("someone-"), unique("someone-")]
    now = datetime.now(UTC)
    cutoff_guess = now - timedelta(days=DAYS)
    ages = {
        "old": [
            timedelta(days=DAYS + 2, hours=3),
            timedelta(days=DAYS + 2, hours=1),
            timedelta(days=DAYS + 5),
            timedelta(days=DAYS, minutes=20),  # the cutoff's own day (or the one before)
        ],
        "kept": [timedelta(days=DAYS) - timedelta(minutes=20), timedelta(hours=1)],
    }

    async def write(age: timedelta, n: int) -> dict[str, Any]:
        response = await client.post(
            f"{api}/logs/",
            json={
                "event_type": kinds[n % 2],
                "user_id": users[n // 2 % 2],
                "timestamp": iso(now - age),
            },
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    old = [await write(age, n) for n, age in enumerate(ages["old"])]
    kept = [await write(age, n) for n, age in enumerate(ages["kept"])]

    response = await client.delete(f"{api}/logs/old", params={"days": DAYS}, headers=admin.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    cutoff = parse(report["cutoff"])
    assert abs(cutoff - cutoff_guess) < timedelta(minutes=1)
    old_days = {parse(e["timestamp"]).date() for e in old}
    assert report["days"] == len({d for d in old_days if d < cutoff.date()})
    assert report["events"] == len(old)
    partitions = {(e["event_type"], parse(e["timestamp"]).date()) for e in old}
    partitions |= {(e["user_id"], parse(e["timestamp"]).date()) for e in old}
    assert report["partitions"] == len(partitions)

    repository = EventRepository(stores.cassandra)
    for event in old:
        assert await repository.get(uuid.UUID(event["event_id"])) is None
    for event in kept:
        assert await repository.get(uuid.UUID(event["event_id"])) is not None
    for kind in kinds:
        for day in old_days:
            start = datetime.combine(day, datetime.min.time(), UTC)
            end = start + timedelta(days=1)
            by_type, _ = await repository.pages_by_type(kind)(day, start, end, 100, None)
            assert [e.event_id for e in by_type] == [
                uuid.UUID(e["event_id"])
                for e in kept
                if e["event_type"] == kind and parse(e["timestamp"]).date() == day
            ]
    kept_ids = {uuid.UUID(e["event_id"]) for e in kept}
    for user_id in users:
        for day in old_days:
            start = datetime.combine(day, datetime.min.time(), UTC)
            end = start + timedelta(days=1)
            by_user, _ = await repository.pages_by_user(user_id, None)(day, start, end, 100, None)
            assert {e.event_id for e in by_user} <= kept_ids
    whole_days = {d for d in old_days if d < cutoff.date()}
    assert not whole_days & set(await repository.days_before(cutoff.date()))
    for day in whole_days:
        assert await repository.partitions(day) == []

    again = await client.delete(f"{api}/logs/old", params={"days": DAYS}, headers=admin.headers)
    assert again.status_code == 200
    assert (again.json()["days"], again.json()["events"], again.json()["partitions"]) == (0, 0, 0)


async def test_delete_old_defaults_to_seven_days_and_needs_a_positive_count(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    admin = await sign_up_superuser(client, api, stores)
    response = await client.delete(f"{api}/logs/old", headers=admin.headers)
    assert response.status_code == 200
    expected = datetime.now(UTC) - timedelta(days=7)
    assert abs(parse(response.json()["cutoff"]) - expected) < timedelta(minutes=1)
    for days in (0, -1, "week"):
        response = await client.delete(
            f"{api}/logs/old", params={"days": days}, headers=admin.headers
        )
        assert response.status_code == 422
