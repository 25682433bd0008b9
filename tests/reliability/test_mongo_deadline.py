"""Finding 3 of the reliability issue: MongoDB had no bound at all (an order waited 60 s through a
freeze, 123 s through a stop, PyMongo's `with_transaction` retrying for up to 120 s). Now an
order in flight when MongoDB freezes or goes away answers 503 naming mongodb within the store
deadline, and no stock is lost. The app reaches a SecantusDB server of the test's own through a
TCP proxy that the test pauses or cuts (a transaction cut off mid-way must never wedge the
shared server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import SignedIn, sign_up, sign_up_superuser, unique
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.reliability.helpers import DEADLINE, SLACK, timed
from tests.reliability.own_stores import own_mongo
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import TcpProxy, address, tcp_proxy


@pytest.fixture
async def proxied(app: FastAPI) -> AsyncIterator[tuple[TcpProxy, Any]]:
    async with (
        own_mongo() as url,
        tcp_proxy(*address(url)) as proxy,
        dedicated_app(
            MONGODB_URL=proxy.url(url),
            STORE_DEADLINE_SECONDS=DEADLINE,
            HEALTH_CHECK_TIMEOUT=1,
        ) as application,
        http_for(application) as http,
    ):
        yield proxy, http


async def _setup(http: httpx.AsyncClient, api: str, stores: Any) -> tuple[SignedIn, str]:
    admin = await sign_up_superuser(http, api, stores)
    product = await http.post(
        f"{api}/products/",
        json={"name": unique("p"), "category": unique("c"), "price": "2.00", "stock": 50},
        headers=admin.headers,
    )
    assert product.status_code == 201, product.text
    return admin, product.json()["id"]


async def _order(http: httpx.AsyncClient, api: str, user: SignedIn, product: str) -> Any:
    body = {"items": [{"product_id": product, "quantity": 1}]}
    return await timed(http.post(f"{api}/orders/", json=body, headers=user.headers))


async def _stock(http: httpx.AsyncClient, api: str, product: str) -> int:
    async with asyncio.timeout(DEADLINE * 10):
        while True:
            response = await http.get(f"{api}/products/{product}")
            if response.status_code == 200:
                return int(response.json()["stock"])
            assert_store_unavailable(response, "mongodb")
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("fault", ["freeze", "stop"])
async def test_an_order_during_a_mongodb_outage_is_a_503_within_the_deadline(
    proxied: tuple[TcpProxy, httpx.AsyncClient], api: str, fault: str
) -> None:
    proxy, http = proxied
    stores = http._transport.app.state.stores  # type: ignore[attr-defined]
    _, product = await _setup(http, api, stores)
    customer = await sign_up(http, api)
    placed, _ = await _order(http, api, customer, product)
    assert placed.status_code == 201, placed.text

    if fault == "freeze":
        proxy.pause()
    else:
        await proxy.cut()
    try:
        for _ in range(2):
            response, took = await _order(http, api, customer, product)
            assert_store_unavailable(response, "mongodb")
            assert took < DEADLINE + SLACK, took
        ready, took = await timed(http.get("/health/readiness"))
        assert (ready.status_code, ready.json()["failed"]) == (503, ["mongodb"])
        assert took < 1 + SLACK
    finally:
        if fault == "freeze":
            proxy.resume()
        else:
            await proxy.restore()

    # The acknowledged order took its unit of stock; none that failed did. (A transaction cut
    # off mid-way keeps its write lock on the server until the server's transaction lifetime
    # ends, so the next order goes to another product.)
    assert await _stock(http, api, product) == 49
    _, other = await _setup(http, api, stores)
    async with asyncio.timeout(DEADLINE * 10):
        while (again := (await _order(http, api, customer, other))[0]).status_code != 201:
            assert_store_unavailable(again, "mongodb")
            await asyncio.sleep(0.2)
