from __future__ import annotations

import httpx
import pytest

from tests.apps import dedicated_app
from tests.clients import http_for

CLOSED_PORT = 1  # nothing listens on 127.0.0.1:1; connections are refused at once

UNREACHABLE: dict[str, dict[str, str | int]] = {
    "postgres": {"DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/x"},
    "redis": {"REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0"},
    "mongodb": {
        "MONGODB_URL": f"mongodb://127.0.0.1:{CLOSED_PORT}/?directConnection=true",
        "MONGODB_TIMEOUT_MS": 500,
    },
    "cassandra": {"CASSANDRA_PORT": CLOSED_PORT, "CASSANDRA_CONNECT_TIMEOUT": 1},
}


async def test_health_and_liveness_need_no_store(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/liveness"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


async def test_readiness_lists_all_four_stores(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/readiness")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["stores"]) == {"postgres", "redis", "mongodb", "cassandra"}
    assert all(s["status"] == "ok" and s["latency_ms"] >= 0 for s in body["stores"].values())
    assert body["stores"]["cassandra"]["version"].startswith("5.0")


@pytest.mark.parametrize("store", sorted(UNREACHABLE))
async def test_readiness_503_names_the_unreachable_store(store: str) -> None:
    async with (
        dedicated_app(HEALTH_CHECK_TIMEOUT=1.5, **UNREACHABLE[store]) as app,
        http_for(app) as http,
    ):
        response = await http.get("/health/readiness")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_ready"
    assert body["failed"] == [store]
    assert store in body["detail"]
    assert body["stores"][store]["status"] == "unavailable"
    others = set(UNREACHABLE) - {store}
    assert all(body["stores"][name]["status"] == "ok" for name in others)


async def test_database_probe_reports_version_and_pool(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/database")
    assert response.status_code == 200
    body = response.json()
    assert body["version"].startswith("15.")
    assert body["database"].startswith("quartet_test_")
    assert body["pool"]["size"] >= 1
