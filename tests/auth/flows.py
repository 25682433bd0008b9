"""Helpers the auth tests share: unique accounts, the login flows, dedicated apps, audit reads."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.main import create_app
from quartet.stores.registry import Stores
from tests.conftest import make_settings, test_env

PASSWORD = "correct-horse-9"
TOKEN_KEYS = {
    "access_token",
    "session_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "session_id",
}
INVALID_TOKEN = {"error": "invalid_token", "detail": "Invalid, expired or revoked token"}
INVALID_CREDENTIALS = {"error": "invalid_credentials", "detail": "Incorrect login or password"}
INVALID_REFRESH = {
    "error": "invalid_refresh_token",
    "detail": "Invalid, expired or revoked refresh token",
}


def unique(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(6)}"


def unique_phone() -> str:
    return "+1" + "".join(str(secrets.randbelow(10)) for _ in range(10))


def unique_ip(first: int = 203) -> str:
    """A random address; tests that share a dedicated app's rate-limit budgets keep apart."""
    return ".".join([str(first), *(str(secrets.randbelow(250) + 1) for _ in range(3))])


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    username: str
    phone: str
    password: str

    def identifier(self, field: str) -> str:
        return str(getattr(self, field))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    assert body["request_id"], body
    return {k: v for k, v in body.items() if k != "request_id"}


async def register(
    http: httpx.AsyncClient, api: str, password: str = PASSWORD, **overrides: Any
) -> Account:
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
    return Account(uuid.UUID(user["id"]), user["email"], user["username"], user["phone"], password)


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


async def refresh(http: httpx.AsyncClient, api: str, refresh_token: str) -> httpx.Response:
    return await http.post(f"{api}/auth/refresh", json={"refresh_token": refresh_token})


async def me(http: httpx.AsyncClient, api: str, token: str) -> httpx.Response:
    return await http.get(f"{api}/auth/me", headers=bearer(token))


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert without_request_id(response.json()) == INVALID_TOKEN


async def assert_tokens_dead(http: httpx.AsyncClient, api: str, tokens: dict[str, Any]) -> None:
    """Neither bearer token of a session authenticates any more."""
    for kind in ("access_token", "session_token"):
        assert_invalid_token(await me(http, api, tokens[kind]))


async def assert_tokens_alive(http: httpx.AsyncClient, api: str, tokens: dict[str, Any]) -> None:
    for kind in ("access_token", "session_token"):
        response = await me(http, api, tokens[kind])
        assert response.status_code == 200, response.text


async def revoked_in_redis(stores: Stores, session_id: str) -> bool:
    """The session's revocation flag (what every bearer check reads) is set."""
    key = f"{stores.settings.REDIS_KEY_PREFIX}auth:revoked:{session_id}"
    return bool(await stores.redis.exists(key))


def run_prefix_settings(**overrides: Any) -> dict[str, Any]:
    """Overrides for a dedicated app: its Redis keys under the run's prefix (so the run's
    cleanup removes them) but apart from the session app's and other dedicated apps'."""
    return {"REDIS_KEY_PREFIX": f"{test_env()['REDIS_KEY_PREFIX']}{unique('app')}:", **overrides}


@asynccontextmanager
async def dedicated_app(**overrides: Any) -> AsyncIterator[FastAPI]:
    """An app with its own settings over the same run database (its writes really commit)."""
    app = create_app(make_settings(**run_prefix_settings(**overrides)))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def http_client(app: FastAPI, peer: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client whose socket peer address is `peer`."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def audit_trail(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, ip: str | None = None
) -> list[dict[str, Any]]:
    """Audit rows for a user or an address, oldest first."""
    assert (user_id is None) != (ip is None)
    column, value = ("user_id", user_id) if user_id is not None else ("ip", ip)
    rows = await session.execute(
        text(
            "SELECT action, user_id, ip, user_agent, data FROM audit_logs "
            f"WHERE {column} = :value ORDER BY created_at, id"
        ),
        {"value": value},
    )
    return [dict(row._mapping) for row in rows]


async def actions(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, ip: str | None = None
) -> list[str]:
    return [row["action"] for row in await audit_trail(session, user_id=user_id, ip=ip)]
