"""Accounts and helpers for the shop tests, over the real PostgreSQL, Redis and MongoDB.

MongoDB writes are not rolled back, so every test makes its own products (unique names and
categories) and orders, and reads stats over its own customer names or time windows. Accounts
really commit (unique emails): the order endpoint loads the user's name through its own
PostgreSQL session, and the second app below (compensation instead of transactions) has its
own connection pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet.stores.registry import Stores
from tests.accounts import SignedIn, sign_up, sign_up_superuser, unique
from tests.apps import dedicated_app
from tests.clients import http_for

MODES = ("transaction", "compensation")

MakeAccount = Callable[..., Awaitable[SignedIn]]


@pytest.fixture
def make_account(raw_client: httpx.AsyncClient, api: str, stores: Stores) -> MakeAccount:
    """A committed user (registered, promoted if asked, then logged in through the API)."""

    async def make(*, superuser: bool = False, full_name: str | None = None) -> SignedIn:
        name = full_name or unique("Customer")
        if superuser:
            return await sign_up_superuser(raw_client, api, stores, full_name=name)
        return await sign_up(raw_client, api, full_name=name)

    return make


@pytest.fixture
async def admin(make_account: MakeAccount) -> SignedIn:
    return await make_account(superuser=True)


@pytest.fixture
async def customer(make_account: MakeAccount) -> SignedIn:
    return await make_account()


@pytest.fixture(scope="session")
async def compensating_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The same stores with MONGODB_TRANSACTIONS=off: orders undo their stock by compensation."""
    async with dedicated_app(MONGODB_TRANSACTIONS="off") as application:
        yield application


@pytest.fixture(params=MODES)
async def shop(
    request: pytest.FixtureRequest, app: FastAPI, compensating_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    """A committing client, once over the app using transactions, once over the one that
    compensates."""
    async with http_for(app if request.param == "transaction" else compensating_app) as http:
        yield http


def product_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": unique("Widget"),
        "description": "A test product",
        "category": unique("cat"),
        "price": "12.50",
        "stock": 10,
        **overrides,
    }


async def create_product(
    http: httpx.AsyncClient, api: str, admin: SignedIn, **overrides: Any
) -> dict[str, Any]:
    response = await http.post(
        f"{api}/products/", json=product_body(**overrides), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def stock_of(http: httpx.AsyncClient, api: str, product_id: str) -> int:
    response = await http.get(f"{api}/products/{product_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["stock"])
