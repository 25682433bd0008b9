"""Erasure with each store failing once: the store that is down is left pending (the others
are cleaned and recorded), an admin sees the pending erasure, and the worker's next pass,
once the store is back, finishes it with nothing left anywhere. The erasure runs on stores of
its own reached through a TCP proxy the test cuts; the shared servers are never stopped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.erasure.models import AccountErasure
from quartet.erasure.service import ErasureService
from quartet.erasure.worker import ErasureWorker
from quartet.settings import Settings
from quartet.stores.cache import Cache
from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository
from tests.conftest import make_settings
from tests.erasure.helpers import account_with_traces, assert_no_leftovers
from tests.rbac.helpers import member_of
from tests.tcp_proxy import TcpProxy, address, tcp_proxy

RETRY_BASE = 0.2


def _target(store: str, settings: Settings) -> tuple[int, str]:
    if store == "postgres":
        return address(settings.DATABASE_URL)
    if store == "redis":
        return address(settings.REDIS_URL)
    if store == "mongodb":
        return address(settings.MONGODB_URL)
    return settings.CASSANDRA_PORT, "127.0.0.1"


def _through(store: str, proxy: TcpProxy, settings: Settings) -> dict[str, Any]:
    if store == "postgres":
        return {"DATABASE_URL": proxy.url(settings.DATABASE_URL)}
    if store == "redis":
        return {"REDIS_URL": proxy.url(settings.REDIS_URL)}
    if store == "mongodb":
        return {"MONGODB_URL": proxy.url(settings.MONGODB_URL)}
    return {"CASSANDRA_PORT": proxy.port}


@asynccontextmanager
async def proxied_stores(store: str, settings: Settings) -> AsyncIterator[tuple[TcpProxy, Stores]]:
    async with tcp_proxy(*_target(store, settings)) as proxy:
        own = Stores(
            make_settings(
                **_through(store, proxy, settings),
                MONGODB_TIMEOUT_MS=500,
                CASSANDRA_REQUEST_TIMEOUT=2,
                CASSANDRA_CONNECT_TIMEOUT=2,
                DB_CONNECT_TIMEOUT=1,
                STORE_DEADLINE_SECONDS=2,
                ERASURE_RETRY_BASE_SECONDS=RETRY_BASE,
            )
        )
        await own.open()
        try:
            yield proxy, own
        finally:
            await own.close()


@pytest.mark.parametrize("store", ["postgres", "redis", "mongodb", "cassandra"])
async def test_a_store_down_mid_erasure_is_retried_until_nothing_is_left(
    raw_client: httpx.AsyncClient, api: str, stores: Stores, settings: Settings, store: str
) -> None:
    traces = await account_with_traces(raw_client, api, stores)
    account = traces.account
    admin = await member_of(raw_client, api, stores, "admin")

    async def begin(session: AsyncSession) -> uuid.UUID:
        user = await UserRepository(session).get_locked(account.id)
        erasure = await ErasureService.begin(
            session, AuthStateRepository(stores.redis, settings.REDIS_KEY_PREFIX), user, admin.id
        )
        return erasure.id

    erasure_id = await stores.transactions.run(begin)
    async with proxied_stores(store, settings) as (proxy, own):
        service = ErasureService(own, Cache.from_settings(own.redis, own.settings))
        worker = ErasureWorker(service, own.settings)
        await proxy.cut()
        if store == "postgres":  # nothing can be claimed nor recorded: the pass fails whole
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
                await worker.run_due()
        else:
            assert await worker.run_due() >= 1
            pending = await raw_client.get(f"{api}/erasures/", headers=admin.headers)
            assert pending.status_code == 200, pending.text
            listed = {e["id"]: e for e in pending.json()["items"]}[str(erasure_id)]
            assert listed["pending"] == [store]
            assert listed["user_id"] == str(account.id)
            assert listed["attempts"] == 1
            assert store in listed["last_error"]
        assert (await raw_client.get(f"{api}/auth/me", headers=account.headers)).status_code == 401
        await proxy.restore()
        for _ in range(50):
            await asyncio.sleep(RETRY_BASE)
            await worker.run_due()
            erasure = await own.transactions.run(lambda s: s.get(AccountErasure, erasure_id))
            if erasure is not None and erasure.completed_at is not None:
                break
        await assert_no_leftovers(stores, traces, erasure_id)
    remaining = await raw_client.get(f"{api}/erasures/", headers=admin.headers)
    assert str(erasure_id) not in {e["id"] for e in remaining.json()["items"]}
