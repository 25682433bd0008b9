"""Accounts and helpers for the shop tests, over the real PostgreSQL, Redis and MongoDB.

MongoDB writes are not rolled back, so every test makes its own products (unique names and
categories) and orders, and reads stats over its own customer names or time windows. Accounts
really commit (unique emails): the order endpoint loads the user's name through its own
PostgreSQL session, and the second app below (compensation instead of transactions) has its
own connection pool.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet.main import create_app
from quartet.stores.registry import Stores
from quartet.users.models import User
from quartet.users.repository import UserRepository
from tests.conftest import make_settings

PASSWORD = "shop-pass-1"
MODES = ("transaction", "compensation")


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    full_name: str
    headers: dict[str, str]


MakeAccount = Callable[..., Awaitable[Account]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_account(app: FastAPI, raw_client: httpx.AsyncClient, api: str) -> MakeAccount:
    """A committed user (inserted through UserRepository), logged in through the API."""
    stores: Stores = app.state.stores

    async def make(*, superuser: bool = False, full_name: str | None = None) -> Account:
        email = f"{unique('shop')}@example.com"
        name = full_name or unique("Customer")
        hashed = await app.state.security.hasher.hash(PASSWORD)
        async with stores.sessionmaker() as session:
            user = await UserRepository(session).create(
                User(email=email, full_name=name, hashed_password=hashed, is_superuser=superuser)
            )
            await session.commit()
        response = await raw_client.post(
            f"{api}/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return Account(user.id, name, {"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
async def admin(make_account: MakeAccount) -> Account:
    return await make_account(superuser=True)


@pytest.fixture
async def customer(make_account: MakeAccount) -> Account:
    return await make_account()


@pytest.fixture(scope="session")
async def compensating_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The same stores with MONGODB_TRANSACTIONS=off: orders undo their stock by compensation."""
    application = create_app(make_settings(MONGODB_TRANSACTIONS="off"))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(params=MODES)
async def shop(
    request: pytest.FixtureRequest, app: FastAPI, compensating_app: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    """A committing client, once over the app using transactions, once over the one that
    compensates."""
    target = app if request.param == "transaction" else compensating_app
    transport = httpx.ASGITransport(app=target)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
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
    http: httpx.AsyncClient, api: str, admin: Account, **overrides: Any
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
