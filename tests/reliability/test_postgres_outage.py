"""Findings 1 and 2 of the reliability issue: a PostgreSQL that is restarting (57P03, "cannot
connect now") or frozen answers 503 `store_unavailable` naming postgres within the store
deadline, never a 500 or a hang. The restart uses a server of the test's own; the freeze, a TCP
proxy in front of the shared server that stops passing bytes."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from quartet.settings import Settings
from tests.accounts import SignedIn, sign_up
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.reliability.helpers import DEADLINE, SLACK, timed
from tests.reliability.own_stores import own_postgres
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import address, tcp_proxy


async def test_a_postgres_that_cannot_accept_connections_now_is_a_503(
    app: FastAPI, api: str, raw_client: httpx.AsyncClient
) -> None:
    """`pg_ctl -m smart stop` with one session still open: the server refuses new connections
    with SQLSTATE 57P03 until that session ends."""
    user = await sign_up(raw_client, api)
    with own_postgres() as server:
        held = await asyncpg.connect(server.url.replace("+asyncpg", ""))
        try:
            server.pg_ctl("-m", "smart", "-W", "stop")
            async with (
                dedicated_app(
                    DATABASE_URL=server.url, STORE_DEADLINE_SECONDS=DEADLINE
                ) as restarting,
                http_for(restarting) as http,
            ):
                for _ in range(50):  # the postmaster takes a moment to enter smart shutdown
                    try:
                        probe = await asyncpg.connect(server.url.replace("+asyncpg", ""))
                    except asyncpg.CannotConnectNowError:
                        break
                    await probe.close()
                    await asyncio.sleep(0.05)
                response, took = await timed(
                    http.post(f"{api}/posts", json={"content": "hi"}, headers=user.headers)
                )
                assert_store_unavailable(response, "postgres")
                assert took < DEADLINE + SLACK
                assert_store_unavailable(await http.get("/health/database"), "postgres")
        finally:
            await held.close()


@pytest.fixture
async def frozen_postgres(app: FastAPI, settings: Settings) -> Any:
    async with (
        tcp_proxy(*address(settings.DATABASE_URL)) as proxy,
        dedicated_app(
            DATABASE_URL=proxy.url(settings.DATABASE_URL),
            STORE_DEADLINE_SECONDS=DEADLINE,
            HEALTH_CHECK_TIMEOUT=1,
        ) as frozen,
        http_for(frozen) as http,
    ):
        yield proxy, http


async def test_a_frozen_postgres_is_a_503_within_the_deadline(
    frozen_postgres: Any, api: str
) -> None:
    proxy, http = frozen_postgres
    user: SignedIn = await sign_up(http, api)  # pools a live connection through the proxy
    created = await http.post(f"{api}/posts", json={"content": "before"}, headers=user.headers)
    assert created.status_code == 201, created.text

    proxy.pause()
    try:
        # a pooled connection (its pre-ping hangs), then new ones (their start-up hangs)
        for _ in range(3):
            response, took = await timed(
                http.post(f"{api}/posts", json={"content": "frozen"}, headers=user.headers)
            )
            assert_store_unavailable(response, "postgres")
            assert took < DEADLINE + SLACK
        response, took = await timed(http.get("/health/database"))
        assert_store_unavailable(response, "postgres")
        assert took < 1 + SLACK
        ready, took = await timed(http.get("/health/readiness"))
        assert (ready.status_code, ready.json()["failed"]) == (503, ["postgres"])
        assert took < 1 + SLACK
    finally:
        proxy.resume()

    async with asyncio.timeout(DEADLINE * 5):
        while True:  # the pool recovers by itself
            after = await http.post(f"{api}/posts", json={"content": "after"}, headers=user.headers)
            if after.status_code == 201:
                break
            assert_store_unavailable(after, "postgres")
            await asyncio.sleep(0.2)
