"""Accounts, dedicated apps and waits the event-log tests share."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from quartet.events.writer import ActivityWriter
from quartet.main import create_app
from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository
from tests.conftest import make_settings, test_env

PASSWORD = "event-log-pass-7"
POLL = 0.02


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    headers: dict[str, str]


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(6)}"


async def account(
    http: httpx.AsyncClient, api: str, stores: Stores, *, superuser: bool = False
) -> Account:
    """A registered user (promoted to superuser before logging in, if asked) and its token."""
    email = f"{unique('ev')}@example.com"
    response = await http.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    if superuser:

        async def promote(session: Any) -> None:
            users = UserRepository(session)
            await users.update(await users.get(uuid.UUID(user_id)), {"is_superuser": True})

        await stores.transactions.run(promote)
    response = await http.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return Account(user_id, email, {"Authorization": f"Bearer {token}"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def drained(writer: ActivityWriter, seconds: float = 15.0) -> dict[str, int]:
    """Wait until the activity writer holds nothing; returns its counters."""
    for _ in range(int(seconds / POLL)):
        if not writer.stats()["pending"]:
            return writer.stats()
        await asyncio.sleep(POLL)
    raise AssertionError(f"the activity writer still holds events: {writer.stats()}")


def app_settings(**overrides: Any) -> Any:
    """Settings for a dedicated app: the run's stores and keyspace, its own Redis prefix."""
    prefix = f"{test_env()['REDIS_KEY_PREFIX']}{unique('events')}:"
    return make_settings(REDIS_KEY_PREFIX=prefix, **overrides)


@asynccontextmanager
async def dedicated_app(**overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(app_settings(**overrides))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def http_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
