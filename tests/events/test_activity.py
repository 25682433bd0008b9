"""The activity feed (GET /activity) and what the auth flows record in it through the writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from quartet.events.writer import ActivityWriter
from quartet.stores.registry import Stores
from tests.accounts import PASSWORD, login, refresh, sign_up, sign_up_superuser, unique
from tests.events.helpers import drained, iso, parse


async def feed(
    http: httpx.AsyncClient, api: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await http.get(f"{api}/activity", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_auth_flows_land_in_the_feed_without_waiting_for_cassandra(
    client: httpx.AsyncClient, api: str, app: FastAPI, stores: Stores
) -> None:
    writer: ActivityWriter = app.state.activity
    email = f"{unique('feed')}@example.com"
    agent = {"User-Agent": "feed-test/1"}
    registered = await client.post(
        f"{api}/auth/register", json={"email": email, "password": PASSWORD}, headers=agent
    )
    user_id = registered.json()["id"]
    wrong = await client.post(
        f"{api}/auth/login", json={"email": email, "password": "wrong-pass-1"}, headers=agent
    )
    assert wrong.status_code == 401
    tokens = (
        await client.post(
            f"{api}/auth/login", json={"email": email, "password": PASSWORD}, headers=agent
        )
    ).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post(f"{api}/auth/logout", headers=headers)).status_code == 204
    relogin = await client.post(
        f"{api}/auth/login", json={"email": email, "password": PASSWORD}, headers=agent
    )
    headers = {"Authorization": f"Bearer {relogin.json()['access_token']}"}

    await drained(writer)
    items = await feed(client, api, headers)
    assert [e["event_type"] for e in items] == [
        "auth.login",
        "auth.logout",
        "auth.login",
        "auth.login_failed",
        "auth.register",
    ]
    assert {e["user_id"] for e in items} == {user_id}
    first_login = items[2]
    assert f'"session_id":"{tokens["session_id"]}"' in first_login["metadata"]
    assert '"user_agent":"feed-test/1"' in first_login["metadata"]
    assert '"identifier_kind":"email"' in items[3]["metadata"]

    only_logins = await feed(client, api, headers, event_type="auth.login")
    assert [e["event_id"] for e in only_logins] == [items[0]["event_id"], items[2]["event_id"]]


async def test_failures_for_unknown_identifiers_and_lockouts_are_recorded(
    client: httpx.AsyncClient, api: str, app: FastAPI, stores: Stores
) -> None:
    admin = await sign_up_superuser(client, api, stores)
    victim = await sign_up(client, api)
    writer: ActivityWriter = app.state.activity
    threshold = app.state.settings.ACCOUNT_LOCKOUT_THRESHOLD
    for _ in range(threshold):
        await client.post(
            f"{api}/auth/login", json={"email": victim.email, "password": "not-it-123"}
        )
    ghost = f"{unique('ghost')}@example.com"
    await client.post(f"{api}/auth/login", json={"email": ghost, "password": "not-it-123"})
    await drained(writer)

    kinds = [
        e["event_type"]
        for e in await feed(client, api, admin.headers, user_id=str(victim.id), limit=100)
    ]
    assert kinds.count("auth.login_failed") == threshold
    assert kinds.count("auth.lockout") == 1
    anonymous = await feed(
        client, api, admin.headers, user_id="anonymous", event_type="auth.login_failed"
    )
    assert anonymous
    assert anonymous[0]["user_id"] == "anonymous"


async def test_refresh_and_refresh_reuse_are_recorded(
    client: httpx.AsyncClient, api: str, app: FastAPI
) -> None:
    user = await sign_up(client, api)
    spent = (await login(client, api, user))["refresh_token"]
    rotated = await refresh(client, api, spent)
    assert rotated.status_code == 200
    assert (await refresh(client, api, rotated.json()["refresh_token"])).status_code == 200
    reused = await refresh(client, api, spent)  # a grandparent: reuse even within the grace
    assert reused.status_code == 401
    await drained(app.state.activity)

    kinds = [e["event_type"] for e in await feed(client, api, user.headers)]
    assert kinds[:4] == ["auth.refresh_reuse", "auth.refresh", "auth.refresh", "auth.login"]


async def test_feed_filters_windows_and_pages(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    admin = await sign_up_superuser(client, api, stores)
    user = await sign_up(client, api)
    now = datetime.now(UTC)
    written = []
    for hours in (1, 20, 26, 50, 75, 24 * 40):
        response = await client.post(
            f"{api}/logs/",
            json={
                "event_type": "feed.a" if hours % 2 else "feed.b",
                "user_id": str(user.id),
                "timestamp": iso(now - timedelta(hours=hours)),
            },
            headers=admin.headers,
        )
        assert response.status_code == 201
        written.append(response.json())
    # (registration and login of `user` are in the feed too, queued by the writer)
    mine = [e for e in await feed(client, api, user.headers, limit=100) if e in written]
    assert mine == written[:5]  # the last is outside the 30-day default window

    since = iso(now - timedelta(hours=60))
    until = iso(now - timedelta(hours=10))
    window = await feed(client, api, user.headers, since=since, until=until)
    assert window == written[1:4]
    typed = await feed(
        client, api, user.headers, event_type="feed.b", since=iso(now - timedelta(days=60))
    )
    assert typed == [e for e in written if e["event_type"] == "feed.b"]

    pages, cursor, seen = 0, None, []
    while True:
        params: dict[str, str | int] = {
            "since": iso(now - timedelta(days=60)),
            "until": iso(now),
            "limit": 2,
        }
        response = await client.get(
            f"{api}/activity",
            params={**params, **({"cursor": cursor} if cursor else {})},
            headers=user.headers,
        )
        body = response.json()
        seen += [e for e in body["items"] if e in written]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == written
    assert pages >= 3

    as_admin = await feed(
        client, api, admin.headers, user_id=str(user.id), since=iso(now - timedelta(days=60))
    )
    assert [e for e in as_admin if e in written] == written
    stamps = [parse(e["timestamp"]) for e in as_admin]
    assert stamps == sorted(stamps, reverse=True)


async def test_feed_rejects_bad_windows(client: httpx.AsyncClient, api: str) -> None:
    user = await sign_up(client, api)
    now = datetime.now(UTC)
    windows: list[dict[str, str | int]] = [
        {"since": iso(now), "until": iso(now - timedelta(hours=1))},
        {"since": iso(now - timedelta(days=400)), "until": iso(now)},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"until": "0001-01-05T00:00:00Z"},
        {"since": "1999-12-31T23:59:59Z", "until": "2000-01-02T00:00:00Z"},
        {"limit": 101},
        {"user_id": "has spaces"},
    ]
    for params in windows:
        response = await client.get(f"{api}/activity", params=params, headers=user.headers)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"] == "validation_error"
    assert (await client.get(f"{api}/activity")).status_code == 401
