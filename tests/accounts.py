"""Accounts made through the real register and login endpoints, for every test package."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository

PASSWORD = "correct-horse-9"


def unique(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(6)}"


def unique_phone() -> str:
    return "+1" + "".join(str(secrets.randbelow(10)) for _ in range(10))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Account:
    """A registered user and its password."""

    id: uuid.UUID
    email: str
    username: str | None
    phone: str | None
    full_name: str | None
    password: str

    def identifier(self, field: str) -> str:
        return str(getattr(self, field))


@dataclass(frozen=True)
class SignedIn(Account):
    """An account and the tokens of one login."""

    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


async def register(
    http: httpx.AsyncClient, api: str, password: str = PASSWORD, **overrides: Any
) -> Account:
    """A unique account (email, username, phone, a name); `overrides` change the body."""
    name = unique()
    body = {
        "email": f"{name}@example.com",
        "password": password,
        "username": name,
        "phone": unique_phone(),
        "full_name": "Test User",
        **overrides,
    }
    response = await http.post(f"{api}/auth/register", json=body)
    assert response.status_code == 201, response.text
    user = response.json()
    return Account(
        uuid.UUID(user["id"]),
        user["email"],
        user["username"],
        user["phone"],
        user["full_name"],
        password,
    )


async def login(
    http: httpx.AsyncClient,
    api: str,
    account: Account,
    *,
    field: str = "email",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await http.post(
        f"{api}/auth/login",
        json={field: account.identifier(field), "password": account.password},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def me(http: httpx.AsyncClient, api: str, token: str) -> httpx.Response:
    return await http.get(f"{api}/auth/me", headers=bearer(token))


async def refresh(http: httpx.AsyncClient, api: str, refresh_token: str) -> httpx.Response:
    return await http.post(f"{api}/auth/refresh", json={"refresh_token": refresh_token})


async def promote(stores: Stores, user_id: uuid.UUID) -> None:
    """Make the user a superuser in a transaction of `stores` (it commits, or joins the test's
    rolled-back `db` transaction while that fixture is active)."""

    async def work(session: AsyncSession) -> None:
        users = UserRepository(session)
        await users.update(await users.get(user_id), {"is_superuser": True})

    await stores.transactions.run(work)


async def sign_up(http: httpx.AsyncClient, api: str, **overrides: Any) -> SignedIn:
    """Register a unique account and log it in."""
    account = await register(http, api, **overrides)
    return SignedIn(**asdict(account), tokens=await login(http, api, account))


async def sign_up_superuser(
    http: httpx.AsyncClient, api: str, stores: Stores, **overrides: Any
) -> SignedIn:
    """Register a unique account, promote it in `stores`, then log it in (so the token carries
    the role)."""
    account = await register(http, api, **overrides)
    await promote(stores, account.id)
    return SignedIn(**asdict(account), tokens=await login(http, api, account))
