"""Cassandra unavailable: the event endpoints answer 503 in the error format, readiness names
Cassandra, the rest of the API keeps working with activity held in memory, and everything
recovers by itself when the node is reachable again. The shared node is never stopped: one app
points at a port where nothing listens, another reaches the node through a TCP proxy that the
test closes and reopens."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from quartet.events.writer import ActivityWriter
from quartet.settings import Settings
from tests.auth.flows import dedicated_app, http_client, unique
from tests.conftest import free_port
from tests.events.helpers import Account, account, drained


class Proxy:
    """A TCP proxy to the Cassandra node that can be cut (listener and every open connection)
    and restored on the same port, or paused: connections stay open but nothing flows, as with
    a node too slow to answer."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            node_r, node_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, node_w}
        await asyncio.gather(self._pipe(client_r, node_w), self._pipe(node_r, client_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)


def assert_cassandra_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "store_unavailable"
    assert body["detail"] == "cassandra is unavailable; try again shortly"
    assert body["request_id"]
    assert response.headers["retry-after"] == "5"


async def event_requests(http: httpx.AsyncClient, api: str, admin: Account) -> list[httpx.Response]:
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
        http_client(outage_app) as http,
    ):
        writer: ActivityWriter = outage_app.state.activity
        started = time.perf_counter()
        admin = await account(http, api, outage_app.state.stores, superuser=True)  # register, login
        me = await http.get(f"{api}/auth/me", headers=admin.headers)
        assert me.status_code == 200
        assert time.perf_counter() - started < 5  # nobody waited for Cassandra
        assert writer.stats()["pending"] == 2  # register and login, held for later

        for response in await event_requests(http, api, admin):
            assert_cassandra_503(response)
        status, body = await readiness(http)
        assert status == 503
        assert body["failed"] == ["cassandra"]
    assert writer.stats()["dropped"] == 2  # the app stopped before Cassandra came back


async def test_a_running_app_recovers_when_cassandra_returns(
    app: FastAPI, api: str, settings: Settings
) -> None:
    proxy = Proxy(settings.CASSANDRA_PORT)
    await proxy.open()
    async with (
        dedicated_app(
            CASSANDRA_PORT=proxy.port,
            CASSANDRA_CONNECT_TIMEOUT=2,
            CASSANDRA_REQUEST_TIMEOUT=3,
            HEALTH_CHECK_TIMEOUT=2,
            ACTIVITY_RETRY_MAX_DELAY=1,
        ) as outage_app,
        http_client(outage_app) as http,
    ):
        writer: ActivityWriter = outage_app.state.activity
        admin = await account(http, api, outage_app.state.stores, superuser=True)
        kind = unique("proxy.")
        before = await http.post(f"{api}/logs/", json={"event_type": kind}, headers=admin.headers)
        assert before.status_code == 201
        await drained(writer)
        assert (await readiness(http))[0] == 200

        await proxy.close()
        for response in await event_requests(http, api, admin):
            assert_cassandra_503(response)
        status, body = await readiness(http)
        assert (status, body["failed"]) == (503, ["cassandra"])
        # Logging in still works; its activity waits in memory.
        relogin = await http.post(
            f"{api}/auth/login", json={"email": admin.email, "password": admin.password}
        )
        assert relogin.status_code == 200
        assert writer.stats()["pending"] == 1

        await proxy.open()
        statuses = []
        async with asyncio.timeout(60):
            while True:
                response = await http.post(
                    f"{api}/logs/", json={"event_type": kind}, headers=admin.headers
                )
                statuses.append(response.status_code)
                if response.status_code == 201:
                    break
                assert_cassandra_503(response)
                await asyncio.sleep(0.25)
        after = response
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
    await proxy.close()


async def test_a_slow_cassandra_times_out_as_503_and_recovers(
    app: FastAPI, api: str, settings: Settings
) -> None:
    proxy = Proxy(settings.CASSANDRA_PORT)
    await proxy.open()
    async with (
        dedicated_app(
            CASSANDRA_PORT=proxy.port,
            CASSANDRA_REQUEST_TIMEOUT=1,
            HEALTH_CHECK_TIMEOUT=1,
            ACTIVITY_RETRY_MAX_DELAY=0.5,
        ) as slow_app,
        http_client(slow_app) as http,
    ):
        writer: ActivityWriter = slow_app.state.activity
        admin = await account(http, api, slow_app.state.stores, superuser=True)
        await drained(writer)

        proxy.flowing.clear()
        started = time.perf_counter()
        stalled = await http.post(
            f"{api}/logs/", json={"event_type": "slow"}, headers=admin.headers
        )
        assert_cassandra_503(stalled)  # OperationTimedOut, after one idempotent retry
        assert 2 <= time.perf_counter() - started < 5
        status, body = await readiness(http)
        assert (status, body["failed"]) == (503, ["cassandra"])
        relogin = await http.post(
            f"{api}/auth/login", json={"email": admin.email, "password": admin.password}
        )
        assert relogin.status_code == 200
        for _ in range(100):
            if writer.stats()["failed_batches"]:
                break
            await asyncio.sleep(0.05)
        assert writer.stats()["failed_batches"] >= 1
        assert writer.stats()["pending"] == 1

        proxy.flowing.set()
        async with asyncio.timeout(60):
            while True:
                response = await http.post(
                    f"{api}/logs/", json={"event_type": "slow"}, headers=admin.headers
                )
                if response.status_code == 201:
                    break
                assert_cassandra_503(response)
                await asyncio.sleep(0.25)
        stats = await drained(writer)
        assert (stats["dropped"], stats["pending"]) == (0, 0)
    await proxy.close()
