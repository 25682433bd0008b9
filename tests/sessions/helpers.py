"""Shared by the session and cache tests: accounts through the real endpoints, dedicated apps
with their own settings, and a TCP proxy in front of the real Redis that a test can cut."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.main import create_app
from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository
from tests.conftest import make_settings, test_env

PASSWORD = "activity-pass-7"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def log_in(http: httpx.AsyncClient, api: str, email: str) -> dict[str, Any]:
    response = await http.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def sign_up(http: httpx.AsyncClient, api: str) -> Account:
    """Register a unique account and log it in."""
    email = f"act-{secrets.token_hex(6)}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Active User"}
    response = await http.post(f"{api}/auth/register", json=body)
    assert response.status_code == 201, response.text
    return Account(uuid.UUID(response.json()["id"]), email, await log_in(http, api, email))


async def promote(session: AsyncSession, user_id: uuid.UUID) -> None:
    users = UserRepository(session)
    await users.update(await users.get(user_id), {"is_superuser": True})


async def sign_up_superuser(
    http: httpx.AsyncClient, api: str, session: AsyncSession | None = None, *, app: FastAPI
) -> Account:
    """A superuser: promoted in `session` (the rolled-back test session) or, without one, in a
    committed unit of work of `app`; then logged in again so the token carries the role."""
    account = await sign_up(http, api)
    if session is not None:
        await promote(session, account.id)
    else:
        stores: Stores = app.state.stores
        async with stores.sessionmaker() as own:
            await promote(own, account.id)
            await own.commit()
    return Account(account.id, account.email, await log_in(http, api, account.email))


@asynccontextmanager
async def dedicated_app(**overrides: Any) -> AsyncIterator[FastAPI]:
    """An app with its own settings and Redis key prefix (under the run's, so the run's cleanup
    covers it) over the run's database; its PostgreSQL writes really commit."""
    prefix = f"{test_env()['REDIS_KEY_PREFIX']}{secrets.token_hex(4)}:"
    app = create_app(make_settings(**{"REDIS_KEY_PREFIX": prefix, **overrides}))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def http_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    assert body["request_id"], body
    return {k: v for k, v in body.items() if k != "request_id"}


class RedisProxy:
    """Forwards 127.0.0.1:<port> to the real Redis. `cut()` stops listening and drops every
    connection (Redis looks down to the app); `restore()` listens on the same port again."""

    def __init__(self) -> None:
        target = urlsplit(make_settings().REDIS_URL)
        self.target = (target.hostname or "127.0.0.1", target.port or 6379)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))
            self._tasks.discard(task)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def redis_proxy() -> AsyncIterator[RedisProxy]:
    proxy = RedisProxy()
    await proxy.restore()
    try:
        yield proxy
    finally:
        if proxy._server is not None:
            await proxy.cut()


async def prefix_keys(stores: Stores, prefix: str) -> list[str]:
    return sorted([key async for key in stores.redis.scan_iter(match=f"{prefix}*", count=500)])
