"""Accounts for the posts tests, made through the real register and login endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.users.repository import UserRepository

PASSWORD = "posts-pass-1"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    headers: dict[str, str]


Register = Callable[..., Awaitable[Account]]


async def login(http: httpx.AsyncClient, api: str, email: str) -> dict[str, str]:
    response = await http.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def registrar(http: httpx.AsyncClient, api: str) -> Register:
    async def register(*, full_name: str | None = "Poster", username: str | None = None) -> Account:
        email = f"posts-{uuid.uuid4().hex}@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": full_name, "username": username}
        response = await http.post(f"{api}/auth/register", json=body)
        assert response.status_code == 201, response.text
        return Account(uuid.UUID(response.json()["id"]), await login(http, api, email))

    return register


@pytest.fixture
def register(client: httpx.AsyncClient, api: str) -> Register:
    """A new account through the rolled-back client."""
    return registrar(client, api)


@pytest.fixture
def raw_register(raw_client: httpx.AsyncClient, api: str) -> Register:
    """A new account that really commits (unique email), for concurrency tests."""
    return registrar(raw_client, api)


@pytest.fixture
async def superuser(client: httpx.AsyncClient, api: str, db: AsyncSession) -> Account:
    """A registered account promoted through UserRepository, then logged in again so its token
    carries the superuser role."""
    account = await registrar(client, api)(full_name="Moderator")
    users = UserRepository(db)
    user = await users.get(account.id)
    await users.update(user, {"is_superuser": True})
    return Account(account.id, await login(client, api, user.email))
