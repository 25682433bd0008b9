"""Writes set the fields and the TTL together: the hash never exists without a TTL, and a touch
racing a delete never leaves a partial hash behind."""

from __future__ import annotations

import asyncio
import uuid

from quartet.sessions.repository import FIELDS, ActivitySessionRepository
from quartet.settings import Settings
from quartet.stores.registry import Stores

ROUNDS = 400
CONCURRENCY = 40  # writers, well under the pool's REDIS_MAX_CONNECTIONS
WATCHERS = 8


async def test_ttl_is_set_with_every_write(stores: Stores, settings: Settings) -> None:
    manager = ActivitySessionRepository(stores.redis, settings.REDIS_KEY_PREFIX, 1800)
    user_id, auth_session = uuid.uuid4(), uuid.uuid4()
    key = manager.key(user_id)

    created = await manager.create(user_id)
    assert created is not None
    assert 1795 <= await stores.redis.ttl(key) <= 1800
    await stores.redis.expire(key, 10)
    await manager.start(user_id, auth_session)
    assert 1795 <= await stores.redis.ttl(key) <= 1800
    await stores.redis.expire(key, 10)
    touched = await manager.touch(user_id)
    assert touched is not None
    assert touched.session_token == created.session_token
    assert 1795 <= await stores.redis.ttl(key) <= 1800
    await manager.delete(user_id)
    assert await manager.touch(user_id) is None
    assert await stores.redis.exists(key) == 0
    await manager.start(user_id, auth_session)  # login after expiry starts a new session
    assert 1795 <= await stores.redis.ttl(key) <= 1800
    fresh = await manager.get(user_id)
    assert fresh is not None
    assert fresh.session_token != created.session_token


async def test_concurrent_writes_never_leave_a_hash_without_ttl_or_fields(
    stores: Stores, settings: Settings
) -> None:
    """Create, login, touch and delete race on one key while watchers sample its TTL and
    fields (a sampler on its own connection sees what any other client would; the same
    sampler catches TTL -1 against a plain HSET-then-EXPIRE writer)."""
    manager = ActivitySessionRepository(stores.redis, settings.REDIS_KEY_PREFIX, 1800)
    user_id = uuid.uuid4()
    key = manager.key(user_id)
    stop = asyncio.Event()
    seen: list[int] = []

    async def watch() -> None:
        while not stop.is_set():
            async with stores.redis.pipeline(transaction=True) as pipe:
                pipe.ttl(key)
                pipe.hmget(key, list(FIELDS))
                ttl, values = await pipe.execute()
            seen.append(int(ttl))
            present = [v is not None for v in values]
            assert all(present) or not any(present), values  # never a partial hash

    slots = asyncio.Semaphore(CONCURRENCY)

    async def write(i: int) -> None:
        async with slots:
            step = i % 4
            if step == 0:
                await manager.create(user_id)
            elif step == 1:
                await manager.start(user_id, uuid.uuid4())
            elif step == 2:
                await manager.touch(user_id)
            else:
                await manager.delete(user_id)

    watchers = [asyncio.create_task(watch()) for _ in range(WATCHERS)]
    await asyncio.gather(*(write(i) for i in range(ROUNDS)))
    stop.set()
    await asyncio.gather(*watchers)
    assert len(seen) >= WATCHERS, "the watchers never sampled"
    assert -1 not in seen
    assert any(ttl > 0 for ttl in seen)

    final = await stores.redis.hmget(key, list(FIELDS))
    if any(v is not None for v in final):
        assert all(v is not None for v in final)
        assert await stores.redis.ttl(key) > 0
    # touching a hash that is gone never re-creates part of it
    await manager.delete(user_id)
    await asyncio.gather(*(manager.touch(user_id) for _ in range(20)))
    assert await stores.redis.exists(key) == 0
