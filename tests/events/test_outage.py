"""Cassandra unavailable: the event endpoints answer 503 in the error format, readiness names
Cassandra, the rest of the API keeps working with activity held in memory, and everything
recovers by itself when the node is reachable again. The shared node is never stopped: one app
points at a port where nothing listens, another reaches the node through a TCP proxy that the
test cuts and restores (tests/tcp_proxy.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from quartet.events.writer import ActivityWriter
from quartet.settings import Settings
from tests.accounts import SignedIn, login, sign_up_superuser, unique
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import free_port
from tests.events.helpers import drained
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import tcp_proxy


async def logged_once_cassandra_answers(
    http: httpx.AsyncClient, api: str, admin: SignedIn, event_type: str
) -> httpx.Response:
    """POST the event until it is taken; every refusal meanwhile is the Cassandra 503."""
    async with asyncio.timeout(60):
        while True:
            response = await http.post(
                f"{api}/logs/", json={"event_type": event_type}, headers=admin.headers
            )
            if response.status_code == 201:
                return response
            assert_store_unavailable(response, "cassandra")
            await asyncio.sleep(0.25)


async def event_requests(
    http: httpx.AsyncClient, api: str, admin: SignedIn
) -> list[httpx.Response]:
    """One request to each event endpoint."""
    some_id = uuid.uuid4()
    return [
        await http.post(f"{api}/logs/", json={"event_type": "outage"}, headers=admin.headers),
        await http.get(f"{api}/logs/", params={"event_type": "outage"}, headers=admin.headers),
        await http.put(f"{api}/logs/{some_id}", json={"metadata": "x"}, headers=admin.headers),
        await http.delete(f"{api}/logs/old", headers=admin.headers),
        await http.get(f"{api}/activity", headers=admin.headers),
        await http.get(f"{api}/activity/{some_id}", headers=admin.headers),
    ]


async def readiness(http: httpx.AsyncClient) -> tuple[int, Any]:
    response = await http.get("/health/readiness")
    return response.status_code, response.json()


async def test_cassandra_down_gives_503_and_the_rest_keeps_working(app: FastAPI, api: str) -> None:
    """(`app`: the run's database and keyspace exist.)"""
    async with (
        dedicated_app(
            CASSANDRA_PORT=free_port(),
            CASSANDRA_CONNECT_TIMEOUT=1,
            HEALTH_CHECK_TIMEOUT=1.5,
            ACTIVITY_SHUTDOWN_TIMEOUT=0.2,
        ) as outage_app,
        http_for(outage_app) as http,
    ):
        writer: ActivityWriter = outage_app.state.activity
        started = time.perf_counter()
        admin = await sign_up_superuser(http, api, outage_app.state.stores)  # register, login
        me = await http.get(f"{api}/auth/me", headers=admin.headers)
        assert me.status_code == 200
        assert time.perf_counter() - started < 5  # nobody waited for Cassandra
        assert writer.stats()["pending"] == 2  # register and login, held for later

        for response in await event_requests(http, api, admin):
            assert_store_unavailable(response, "cassandra")
        status, body = await readiness(http)
        assert status == 503
        assert body["failed"] == ["cassandra"]
    assert writer.stats()["dropped"] == 2  # the app stopped before Cassandra came back


async def test_a_running_app_recovers_when_cassandra_returns(
    app: FastAPI, api: str, settings: Settings
) -> None:
    async with (
        tcp_proxy(settings.CASSANDRA_PORT) as proxy,
        dedicated_app(
            CASSANDRA_PORT=proxy.port,
            CASSANDRA_CONNECT_TIMEOUT=2,
            CASSANDRA_REQUEST_TIMEOUT=3,
            HEALTH_CHECK_TIMEOUT=2,
            ACTIVITY_RETRY_MAX_DELAY=1,
        ) as outage_app,
        http_for(outage_app) as http,
    ):
        writer: ActivityWriter = outage_app.state.activity
        admin = await sign_up_superuser(http, api, outage_app.state.stores)
        kind = unique("proxy.")
        before = await http.post(f"{api}/logs/", json={"event_type": kind}, headers=admin.headers)
        assert before.status_code == 201
        await drained(writer)
        assert (await readiness(http))[0] == 200

        await proxy.cut()
        for response in await event_requests(http, api, admin):
            assert_store_unavailable(response, "cassandra")
        status, body = await readiness(http)
        assert (status, body["failed"]) == (503, ["cassandra"])
        # Logging in still works; its activity waits in memory.
        await login(http, api, admin)
        assert writer.stats()["pending"] == 1

        await proxy.restore()
        after = await logged_once_cassandra_answers(http, api, admin, kind)
        assert (await readiness(http))[0] == 200
        stats = await drained(writer)
        assert stats["failed_batches"] >= 1
        assert stats["dropped"] == 0

        listed = await http.get(f"{api}/logs/", params={"event_type": kind}, headers=admin.headers)
        assert [e["event_id"] for e in listed.json()["items"]] == [
            after.json()["event_id"],
            before.json()["event_id"],
        ]
        feed = await http.get(
            f"{api}/activity", params={"event_type": "auth.login"}, headers=admin.headers
        )
        assert len(feed.json()["items"]) == 2  # the login during the outage was written


async def test_a_slow_cassandra_times_out_as_503_and_recovers(
    app: FastAPI, api: str, settings: Settings
) -> None:
    async with (
        tcp_proxy(settings.CASSANDRA_PORT) as proxy,
        dedicated_app(
            CASSANDRA_PORT=proxy.port,
            CASSANDRA_REQUEST_TIMEOUT=1,
            HEALTH_CHECK_TIMEOUT=1,
            ACTIVITY_RETRY_MAX_DELAY=0.5,
        ) as slow_app,
        http_for(slow_app) as http,
    ):
        writer: ActivityWriter = slow_app.state.activity
        admin = await sign_up_superuser(http, api, slow_app.state.stores)
        await drained(writer)

        proxy.pause()
        started = time.perf_counter()
        stalled = await http.post(
            f"{api}/logs/", json={"event_type": "slow"}, headers=admin.headers
        )
        # OperationTimedOut, after one idempotent retry
        assert_store_unavailable(stalled, "cassandra")
        assert 2 <= time.perf_counter() - started < 5
        status, body = await readiness(http)
        assert (status, body["failed"]) == (503, ["cassandra"])
        await login(http, api, admin)
        for _ in range(100):
            if writer.stats()["failed_batches"]:
                break
            await asyncio.sleep(0.05)
        assert writer.stats()["failed_batches"] >= 1
        assert writer.stats()["pending"] == 1

        proxy.resume()
        await logged_once_cassandra_answers(http, api, admin, "slow")
        stats = await drained(writer)
        assert (stats["dropped"], stats["pending"]) == (0, 0)
