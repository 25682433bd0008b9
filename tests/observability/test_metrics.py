"""GET /metrics after scripted requests: counters move by exactly what was done, and labels
are route templates, never raw paths."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from quartet.observability.middleware import MetricsMiddleware
from quartet.observability.multiprocess import MULTIPROC_ENV, prepare_metrics_dir
from quartet.stores.registry import Stores
from tests.accounts import PASSWORD, SignedIn, bearer, login, refresh, register
from tests.apps import dedicated_app, unstarted_app
from tests.clients import http_for
from tests.observability.helpers import Samples, scrape, value

HTTP = "quartet_http_requests_total"


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_http_counters_use_route_templates(client: httpx.AsyncClient, api: str) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    before = await scrape(client)
    for post_id in ids:
        assert (await client.get(f"{api}/posts/{post_id}")).status_code == 404
    for n in range(2):
        assert (await client.get(f"/no-such-page/{n}")).status_code == 404
    assert (await client.get("/health")).status_code == 200
    response = await client.get("/metrics")
    after_text = response.text
    after = await scrape(client)

    posts = {"method": "GET", "route": f"{api}/posts/{{post_id}}", "status": "404"}
    assert delta(before, after, HTTP, **posts) == 3
    assert delta(before, after, HTTP, method="GET", route="<unmatched>", status="404") == 2
    assert delta(before, after, HTTP, method="GET", route="/health", status="200") == 1
    assert delta(before, after, HTTP, method="GET", route="/metrics", status="200") == 2
    duration = "quartet_http_request_duration_seconds_count"
    assert delta(before, after, duration, method="GET", route=f"{api}/posts/{{post_id}}") == 3
    assert all(str(post_id) not in after_text for post_id in ids)
    assert "/no-such-page" not in after_text
    assert value(after, "quartet_http_requests_in_progress") >= 1  # this scrape itself


async def test_auth_outcomes_are_counted_exactly(client: httpx.AsyncClient, api: str) -> None:
    account = await register(client, api)
    before = await scrape(client)
    tokens = await login(client, api, account)
    for _ in range(2):
        wrong = {"email": account.email, "password": PASSWORD + "x"}
        assert (await client.post(f"{api}/auth/login", json=wrong)).status_code == 401
    child = await refresh(client, api, tokens["refresh_token"])
    assert child.status_code == 200
    assert (await refresh(client, api, child.json()["refresh_token"])).status_code == 200
    # A grandparent is reuse even within REFRESH_REUSE_GRACE_SECONDS.
    assert (await refresh(client, api, tokens["refresh_token"])).status_code == 401
    after = await scrape(client)

    assert delta(before, after, "quartet_logins_total", outcome="ok") == 1
    assert delta(before, after, "quartet_logins_total", outcome="failed") == 2
    assert delta(before, after, "quartet_logins_total", outcome="locked") == 0
    assert delta(before, after, "quartet_token_refreshes_total") == 2
    assert delta(before, after, "quartet_refresh_token_reuse_total") == 1
    assert delta(before, after, "quartet_audit_events_total", action="auth.login_failed") == 2
    login_route = {"method": "POST", "route": f"{api}/auth/login"}
    assert delta(before, after, HTTP, **login_route, status="200") == 1
    assert delta(before, after, HTTP, **login_route, status="401") == 2


@pytest.mark.usefixtures("app")
async def test_lockout_is_counted(api: str) -> None:
    async with (
        dedicated_app(ACCOUNT_LOCKOUT_THRESHOLD=2) as app,
        http_for(app) as http,
    ):
        account = await register(http, api)
        before = await scrape(http)
        wrong = {"email": account.email, "password": PASSWORD + "x"}
        statuses = [(await http.post(f"{api}/auth/login", json=wrong)).status_code for _ in "abc"]
        after = await scrape(http)
    assert statuses == [401, 423, 423]
    assert delta(before, after, "quartet_logins_total", outcome="failed") == 2
    assert delta(before, after, "quartet_account_lockouts_total") == 1
    assert delta(before, after, "quartet_logins_total", outcome="locked") == 1


async def test_redis_round_trips_per_request(client: httpx.AsyncClient, user: SignedIn) -> None:
    """GET /auth/me with a warm profile cache: ONE round trip carries the rate limiter's hit,
    the token's revocation, version and permission check with the activity-session touch, and
    the cached profile's read."""
    me = "/api/v1/auth/me"
    assert (await client.get(me, headers=user.headers)).status_code == 200  # fills the cache
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(me, headers=user.headers)).status_code == 200
    after = await scrape(client)
    trips = "quartet_redis_round_trips_per_request"
    assert delta(before, after, f"{trips}_count", route=me) == 3
    assert delta(before, after, f"{trips}_sum", route=me) == 3 * 1
    assert delta(before, after, "quartet_cache_hits_total") == 3
    assert delta(before, after, "quartet_cache_misses_total") == 0


async def test_store_queries_and_activity_writer(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await register(client, api)
    before = await scrape(client)
    statements_before = stores.monitors["postgres"].total_count()
    await login(client, api, account)
    # A scrape reads the outbox's pending count too: count the statements up to its end.
    after = await scrape(client)
    statements = stores.monitors["postgres"].total_count() - statements_before
    assert statements > 0
    assert delta(before, after, "quartet_db_queries_total", store="postgres") == statements
    duration = "quartet_db_query_duration_seconds_count"
    assert delta(before, after, duration, store="postgres") == statements
    assert delta(before, after, "quartet_activity_enqueued_total") == 1  # the login's record
    deadline = time.monotonic() + 10
    while delta(before, after, "quartet_activity_written_total") < 1:
        assert time.monotonic() < deadline, "the activity event was never written"
        await asyncio.sleep(0.1)
        after = await scrape(client)
    assert value(after, "quartet_db_queries_total", store="cassandra") > 0
    assert value(after, "quartet_db_pool_connections", store="postgres", state="size") >= 1
    assert value(after, "quartet_db_pool_connections", store="redis", state="max") >= 1
    assert value(after, "quartet_activity_pending") >= 0


@pytest.mark.usefixtures("app")
async def test_rate_limit_refusals(api: str) -> None:
    async with dedicated_app(RATE_LIMIT_PER_MINUTE=2) as app, http_for(app) as http:
        before = await scrape(http)
        statuses = [(await http.get(f"{api}/posts/{uuid.uuid4()}")).status_code for _ in "abc"]
        after = await scrape(http)
    assert statuses == [404, 404, 429]
    assert delta(before, after, "quartet_rate_limit_refusals_total", scope="global") == 1


async def test_event_loop_lag_is_measured(app: FastAPI, client: httpx.AsyncClient) -> None:
    probe = app.state.observability.probe
    before = await scrape(client)
    # Blocked for longer than the probe's interval: its wake-up is at least 0.3 s late.
    time.sleep(probe.interval + 0.3)  # noqa: ASYNC251 - blocking the loop on purpose
    await asyncio.sleep(probe.interval * 1.5)
    after = await scrape(client)
    assert probe.summary()["max_ms"] >= 300
    lagged = delta(before, after, "quartet_event_loop_lag_seconds_sum")
    assert lagged >= 0.3
    assert delta(before, after, "quartet_event_loop_lag_seconds_count") >= 1


async def test_metrics_token_and_production_default(api: str) -> None:
    async with unstarted_app(METRICS_TOKEN="scrape-secret-123") as app, http_for(app) as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers=bearer("wrong"))).status_code == 401
        await scrape(http, **bearer("scrape-secret-123"))
    production = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "p" * 40,
        "FIRST_SUPERUSER_PASSWORD": "a-real-password-42",
    }
    async with unstarted_app(**production) as app, http_for(app) as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
    async with unstarted_app(**production, METRICS_PUBLIC=True) as app, http_for(app) as http:
        await scrape(http)


async def test_metrics_can_be_turned_off() -> None:
    async with unstarted_app(METRICS_ENABLED=False) as app, http_for(app) as http:
        assert (await http.get("/metrics")).status_code == 404
    assert all(m.cls is not MetricsMiddleware for m in app.user_middleware)  # type: ignore[comparison-overlap]


def test_serve_prepares_an_empty_metrics_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"old counts")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    assert prepare_metrics_dir(workers=2) == tmp_path
    assert not stale.exists()

    monkeypatch.delenv(MULTIPROC_ENV)
    assert prepare_metrics_dir(workers=1) is None
    made = prepare_metrics_dir(workers=2)
    assert made is not None
    assert made.is_dir()
    assert os.environ[MULTIPROC_ENV] == str(made)
    made.rmdir()
