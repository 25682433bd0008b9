"""The read-through cache: /auth/me served from it, invalidated by writes, never failing a
request when Redis does, and back in use by itself when Redis returns."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.settings import Settings
from quartet.stores.cache import Cache
from quartet.stores.redis import create_client
from quartet.stores.registry import Stores
from quartet.users.cache import ProfileCache
from quartet.users.schemas import UserPublic
from tests.accounts import SignedIn, login
from tests.conftest import free_port, make_settings
from tests.tcp_proxy import address, tcp_proxy

CACHE_LOGGER = "quartet.stores.cache"


class Item(BaseModel):
    value: int


def loader(value: int, calls: list[int]) -> Callable[[], Awaitable[Item]]:
    async def load() -> Item:
        calls.append(value)
        return Item(value=value)

    return load


def scratch_prefix(settings: Settings) -> str:
    """A key prefix of this test's own under the run's (cleared after each test)."""
    return f"{settings.REDIS_KEY_PREFIX}{secrets.token_hex(4)}:"


async def test_me_is_served_from_the_cache_until_a_login_writes_the_row(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    first = await client.get(f"{api}/auth/me", headers=user.headers)
    assert first.status_code == 200
    key = Cache.from_settings(stores.redis, settings).key(ProfileCache.name(user.id))
    cached = await stores.redis.get(key)
    assert cached is not None
    assert UserPublic.model_validate_json(cached) == UserPublic.model_validate(first.json())
    assert settings.CACHE_TTL_SECONDS - 5 <= await stores.redis.ttl(key) <= 300

    # the next read comes from Redis, not PostgreSQL: change the entry and see it served
    marked = UserPublic.model_validate_json(cached).model_copy(update={"full_name": "From Cache"})
    await stores.redis.set(key, marked.model_dump_json(), keepttl=True)
    served = await client.get(f"{api}/auth/me", headers=user.headers)
    assert served.json()["full_name"] == "From Cache"

    # a login writes last_login_at: the entry is dropped after the commit and reloaded
    await login(client, api, user)
    assert await stores.redis.exists(key) == 0
    fresh = (await client.get(f"{api}/auth/me", headers=user.headers)).json()
    assert fresh["full_name"] == user.full_name
    assert fresh["last_login_at"] > first.json()["last_login_at"]


async def test_a_fill_that_raced_an_invalidation_is_discarded(
    stores: Stores, settings: Settings
) -> None:
    """A reader loads the old row, a writer commits and invalidates meanwhile: the reader's
    answer is what it loaded, but the old row is not stored for a whole TTL."""
    cache = Cache(stores.redis, scratch_prefix(settings), 300)

    async def load_while_a_writer_invalidates() -> Item:
        await cache.invalidate("item")
        return Item(value=1)

    assert await cache.get_or_load("item", Item, load_while_a_writer_invalidates) == Item(value=1)
    assert await stores.redis.exists(cache.key("item")) == 0

    calls: list[int] = []
    assert await cache.get_or_load("item", Item, loader(2, calls)) == Item(value=2)
    assert await cache.get_or_load("item", Item, loader(3, calls)) == Item(value=2)
    assert calls == [2]
    assert (cache.counters.hits, cache.counters.misses) == (1, 2)


async def test_nothing_is_stored_for_a_missing_row(stores: Stores, settings: Settings) -> None:
    cache = Cache(stores.redis, scratch_prefix(settings), 300)

    async def absent() -> Item | None:
        return None

    assert await cache.get_or_load("nobody", Item, absent) is None
    assert await stores.redis.exists(cache.key("nobody")) == 0


async def test_an_unreachable_redis_reads_through_and_logs_once(
    db: AsyncSession, user: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CACHE_LOGGER)
    down = make_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT=0.5)
    redis = create_client(down)
    try:
        cache = Cache.from_settings(redis, down)
        calls: list[int] = []
        for value in range(5):
            assert await cache.get_or_load("item", Item, loader(value, calls)) == Item(value=value)
        await cache.invalidate("item")
        profile = await ProfileCache(cache).get(db, user.id)  # straight from PostgreSQL
        assert profile is not None
        assert profile.email == user.email
    finally:
        await redis.aclose()
    assert calls == [0, 1, 2, 3, 4]
    assert cache.failing
    assert cache.counters.errors == 7
    warnings = [r for r in caplog.records if r.name == CACHE_LOGGER]
    assert [r.levelname for r in warnings] == ["WARNING"]


async def test_the_cache_is_used_again_when_redis_returns(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CACHE_LOGGER)
    async with tcp_proxy(*address(settings.REDIS_URL)) as proxy:
        proxied = make_settings(REDIS_URL=proxy.url(settings.REDIS_URL), REDIS_TIMEOUT=0.5)
        redis = create_client(proxied)
        try:
            cache = Cache(redis, scratch_prefix(settings), 300)
            calls: list[int] = []
            await cache.get_or_load("item", Item, loader(1, calls))
            assert await cache.get_or_load("item", Item, loader(2, calls)) == Item(value=1)

            await proxy.cut()
            for value in (3, 4, 5):
                assert await cache.get_or_load("item", Item, loader(value, calls)) == Item(
                    value=value
                )
            await proxy.restore()
            assert await cache.get_or_load("item", Item, loader(6, calls)) == Item(value=1)
            assert await cache.get_or_load("item", Item, loader(7, calls)) == Item(value=1)
        finally:
            await redis.aclose()
    assert calls == [1, 3, 4, 5]
    assert not cache.failing
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == CACHE_LOGGER]
    assert [level for level, _ in logged] == ["WARNING", "INFO"]
    assert logged[1][1] == "cache available again"
