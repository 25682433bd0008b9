"""Finding 4 of the reliability issue: a frozen Cassandra held `POST /logs/` for 20 s (two 10 s
request timeouts), and events answered as failures had in fact been stored, so a client retry
made duplicates. Now the POST answers 503 naming cassandra within the store deadline, and a
client that chose the event id retries onto the same rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet.core.ids import uuid7, uuid7_time
from quartet.settings import Settings
from tests.accounts import SignedIn, sign_up, sign_up_superuser, unique
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.reliability.helpers import DEADLINE, SLACK, timed
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import TcpProxy, tcp_proxy


@pytest.fixture
async def proxied(app: FastAPI, settings: Settings) -> AsyncIterator[tuple[TcpProxy, Any]]:
    async with (
        tcp_proxy(settings.CASSANDRA_PORT) as proxy,
        dedicated_app(
            CASSANDRA_PORT=proxy.port,
            CASSANDRA_REQUEST_TIMEOUT=10,
            STORE_DEADLINE_SECONDS=DEADLINE,
            HEALTH_CHECK_TIMEOUT=1,
            ACTIVITY_RETRY_MAX_DELAY=0.5,
        ) as application,
        http_for(application) as http,
    ):
        yield proxy, http


async def _post(http: httpx.AsyncClient, api: str, user: SignedIn, body: dict[str, Any]) -> Any:
    return await timed(http.post(f"{api}/logs/", json=body, headers=user.headers))


async def test_a_frozen_cassandra_is_a_503_within_the_deadline_and_a_retry_duplicates_nothing(
    proxied: tuple[TcpProxy, httpx.AsyncClient], api: str
) -> None:
    proxy, http = proxied
    user = await sign_up(http, api)
    kind = unique("drill.")
    body = {"event_id": str(uuid7()), "event_type": kind, "metadata": "m"}

    proxy.pause()
    try:
        response, took = await _post(http, api, user, body)
        assert_store_unavailable(response, "cassandra")
        assert took < DEADLINE + SLACK, took
    finally:
        proxy.resume()

    async with asyncio.timeout(DEADLINE * 10):  # the client retries the same event
        while (retried := (await _post(http, api, user, body))[0]).status_code != 201:
            assert_store_unavailable(retried, "cassandra")
            await asyncio.sleep(0.2)
    assert retried.json()["event_id"] == body["event_id"]
    again, _ = await _post(http, api, user, body)
    assert (again.status_code, again.json()) == (201, retried.json())

    admin = await sign_up_superuser(http, api, http._transport.app.state.stores)  # type: ignore[attr-defined]
    listed = await http.get(f"{api}/logs/", params={"event_type": kind}, headers=admin.headers)
    assert [e["event_id"] for e in listed.json()["items"]] == [body["event_id"]]


async def test_a_client_event_id_of_another_event_is_a_409(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn
) -> None:
    body = {"event_id": str(uuid7()), "event_type": unique("mine.")}
    created = await client.post(f"{api}/logs/", json=body, headers=user.headers)
    assert created.status_code == 201, created.text
    stamped = datetime.fromisoformat(created.json()["timestamp"].replace("Z", "+00:00"))
    assert stamped == uuid7_time(uuid.UUID(body["event_id"]))  # the id's time by default
    taken = await client.post(f"{api}/logs/", json=body, headers=other.headers)
    assert (taken.status_code, taken.json()["error"]) == (409, "event_id_taken")
    changed = await client.post(
        f"{api}/logs/", json={**body, "metadata": "other"}, headers=user.headers
    )
    assert changed.status_code == 409
    not_v7 = await client.post(
        f"{api}/logs/", json={**body, "event_id": str(uuid.uuid4())}, headers=user.headers
    )
    assert not_v7.status_code == 422
