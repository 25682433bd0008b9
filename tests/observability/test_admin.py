"""The admin endpoints: shapes, permissions (superuser until RBAC lands) and the reset."""

from __future__ import annotations

import uuid

import httpx
import pytest

from quartet import local_ports
from quartet.settings import Settings
from tests.accounts import SignedIn, sign_up_superuser
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.tcp_proxy import address, tcp_proxy

API = "/api/v1"
GUARDED = [
    ("GET", f"{API}/metrics/database"),
    ("GET", f"{API}/metrics/database/queries"),
    ("GET", f"{API}/metrics/database/slow-queries"),
    ("POST", f"{API}/metrics/database/reset"),
    ("GET", f"{API}/status"),
    ("GET", "/health/database/detailed"),
    ("GET", "/health/system"),
    ("GET", "/health/test-sentry"),
]


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_guarded(client: httpx.AsyncClient, user: SignedIn, method: str, path: str) -> None:
    anonymous = await client.request(method, path)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "unauthorized"
    forbidden = await client.request(method, path, headers=user.headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "permission_denied"
    assert "monitoring." in forbidden.json()["detail"]


async def test_database_metrics(client: httpx.AsyncClient, superuser: SignedIn) -> None:
    response = await client.get(f"{API}/metrics/database", headers=superuser.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["stores"]) == {"postgres", "redis", "mongodb", "cassandra"}
    postgres = body["stores"]["postgres"]
    assert set(postgres["pool"]) == {"size", "checked_in", "checked_out", "overflow"}
    assert postgres["queries"]["count"] > 0
    assert set(postgres["queries"]) == {
        *("count", "errors", "error_rate", "total_ms", "mean_ms"),
        *("p50_ms", "p95_ms", "p99_ms"),
    }
    assert postgres["queries"]["p50_ms"] <= postgres["queries"]["p99_ms"]
    assert body["stores"]["redis"]["queries"] is None
    assert set(body["stores"]["redis"]["pool"]) == {"in_use", "idle", "max"}
    assert isinstance(body["pid"], int)


async def test_queries_sorted_filtered_and_pg_stat_statements(
    client: httpx.AsyncClient, superuser: SignedIn
) -> None:
    url = f"{API}/metrics/database/queries"
    by_count = await client.get(url, params={"sort": "count"}, headers=superuser.headers)
    assert by_count.status_code == 200, by_count.text
    body = by_count.json()
    counts = [item["count"] for item in body["items"]]
    assert counts == sorted(counts, reverse=True)
    assert {item["store"] for item in body["items"]} <= {"postgres", "mongodb", "cassandra"}
    pg = body["pg_stat_statements"]
    assert pg["available"] is True, pg
    assert pg["items"]
    assert all(item["calls"] >= 1 for item in pg["items"])
    assert any("$1" in item["query"] for item in pg["items"])  # normalised by PostgreSQL

    only_pg = await client.get(
        url, params={"store": "postgres", "sort": "mean_ms", "limit": 5}, headers=superuser.headers
    )
    assert only_pg.status_code == 200
    items = only_pg.json()["items"]
    assert 0 < len(items) <= 5
    assert {item["store"] for item in items} == {"postgres"}
    means = [item["mean_ms"] for item in items]
    assert means == sorted(means, reverse=True)

    cassandra = await client.get(url, params={"store": "cassandra"}, headers=superuser.headers)
    assert cassandra.json()["pg_stat_statements"] is None

    for bad in ({"sort": "statement"}, {"limit": 0}, {"store": "redis"}, {"other": "1"}):
        refused = await client.get(url, params=bad, headers=superuser.headers)
        assert refused.status_code == 422, bad
        assert refused.json()["error"] == "validation_error"


@pytest.mark.usefixtures("app")
async def test_slow_queries_and_reset(api: str) -> None:
    """Every statement is slow at SLOW_QUERY_MS=0; the reset empties this worker's figures."""
    async with dedicated_app(SLOW_QUERY_MS=0) as app, http_for(app) as http:
        admin = await sign_up_superuser(http, api, app.state.stores)
        await http.get(f"{api}/products/{uuid.uuid4()}")  # a MongoDB statement
        slow = await http.get(f"{api}/metrics/database/slow-queries", headers=admin.headers)
        assert slow.status_code == 200, slow.text
        body = slow.json()
        assert body["slow_query_ms"] == 0
        assert {item["store"] for item in body["items"]} >= {"postgres", "mongodb"}
        times = [item["at"] for item in body["items"]]
        assert times == sorted(times, reverse=True)
        only_mongo = await http.get(
            f"{api}/metrics/database/slow-queries",
            params={"store": "mongodb", "limit": 1},
            headers=admin.headers,
        )
        assert [item["store"] for item in only_mongo.json()["items"]] == ["mongodb"]

        reset = await http.post(f"{api}/metrics/database/reset", headers=admin.headers, json={})
        assert reset.status_code == 200, reset.text
        assert reset.json()["reset"] == ["cassandra", "mongodb", "postgres"]
        assert reset.json()["pg_stat_statements"] is False
        after = await http.get(
            f"{api}/metrics/database/queries", params={"store": "mongodb"}, headers=admin.headers
        )
        assert after.json()["items"] == []
        slow_after = await http.get(
            f"{api}/metrics/database/slow-queries",
            params={"store": "mongodb"},
            headers=admin.headers,
        )
        assert slow_after.json()["items"] == []
        strict = await http.post(
            f"{api}/metrics/database/reset", headers=admin.headers, json={"everything": True}
        )
        assert strict.status_code == 422


async def test_detailed_health(client: httpx.AsyncClient, superuser: SignedIn) -> None:
    response = await client.get("/health/database/detailed", headers=superuser.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok", body
    stores = body["stores"]
    assert all(store["status"] == "ok" and store["version"] for store in stores.values())
    assert stores["postgres"]["cluster"]["in_recovery"] is False
    assert stores["redis"]["cluster"]["role"] == "master"
    assert isinstance(stores["mongodb"]["cluster"]["members"], list)
    assert stores["cassandra"]["cluster"]["peers"] == []  # one local node
    assert stores["cassandra"]["version"].startswith("5.")
    assert "open" in stores["cassandra"]["pool"]


async def test_status(client: httpx.AsyncClient, superuser: SignedIn) -> None:
    response = await client.get(f"{API}/status", headers=superuser.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"]
    assert body["git_sha"]
    assert body["uptime_seconds"] > 0
    assert body["workers"] == 1
    assert body["metrics"] is True
    assert body["sentry"] is False
    assert body["tracing"] is False
    assert "activity" in body["queue_depths"]
    settings = body["settings"]
    assert settings["SECRET_KEY"] == "***"
    assert settings["FIRST_SUPERUSER_PASSWORD"] == "***"
    assert settings["METRICS_TOKEN"] is None
    assert settings["ENVIRONMENT"] == "test"
    assert "change-me" not in response.text


@pytest.mark.usefixtures("app")
async def test_status_masks_url_passwords() -> None:
    async with (
        dedicated_app(
            REDIS_URL=f"redis://:redis-pass-99@{local_ports.HOST}:{local_ports.REDIS_PORT}/0",
            METRICS_TOKEN="tok-77",
        ) as app,
        http_for(app) as http,
    ):
        admin = await sign_up_superuser(http, API, app.state.stores)
        response = await http.get(f"{API}/status", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert "redis-pass-99" not in response.text
    assert "tok-77" not in response.text
    assert response.json()["settings"]["METRICS_TOKEN"] == "***"


async def test_system(client: httpx.AsyncClient, superuser: SignedIn) -> None:
    response = await client.get("/health/system", headers=superuser.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cpu"]["count"] >= 1
    assert len(body["cpu"]["load_average"]) == 3
    assert body["memory"]["process_rss_bytes"] > 0
    assert body["disk"]["total_bytes"] > body["disk"]["free_bytes"] > 0
    assert body["files"]["open"] > 0
    assert body["threads"] >= 1
    assert body["event_loop_lag"]["interval_ms"] == 500
    assert body["event_loop_lag"]["samples"] >= 1


@pytest.mark.usefixtures("app")
async def test_detailed_health_reports_a_store_down(settings: Settings) -> None:
    """MongoDB cut behind a proxy: the others still answer, MongoDB is reported, no 5xx."""
    async with (
        tcp_proxy(*address(settings.MONGODB_URL)) as proxy,
        dedicated_app(
            MONGODB_URL=proxy.url(settings.MONGODB_URL),
            MONGODB_TIMEOUT_MS=500,
            HEALTH_CHECK_TIMEOUT=1,
        ) as app,
        http_for(app) as http,
    ):
        admin = await sign_up_superuser(http, API, app.state.stores)
        await proxy.cut()
        response = await http.get("/health/database/detailed", headers=admin.headers)
        queries = await http.get(
            f"{API}/metrics/database/queries", params={"store": "postgres"}, headers=admin.headers
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert body["stores"]["mongodb"]["status"] == "unavailable"
    assert body["stores"]["mongodb"]["error"]
    assert {name for name, s in body["stores"].items() if s["status"] == "ok"} == {
        "postgres",
        "redis",
        "cassandra",
    }
    assert queries.status_code == 200
