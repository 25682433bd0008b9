"""Apps of their own for tests that need other settings than the session's `app`."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from quartet.main import create_app
from quartet.stores.redis import create_client
from tests.conftest import make_settings, test_env


@asynccontextmanager
async def dedicated_app(**overrides: Any) -> AsyncIterator[FastAPI]:
    """A started app (lifespan run) with its own settings over the run's stores: its PostgreSQL
    writes really commit, and its Redis keys sit under a prefix of its own inside the run's, so
    they stay apart from other apps' and the run's cleanup removes them."""
    prefix = f"{test_env()['REDIS_KEY_PREFIX']}{secrets.token_hex(4)}:"
    app = create_app(make_settings(**{"REDIS_KEY_PREFIX": prefix, **overrides}))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def unstarted_app(**overrides: Any) -> AsyncIterator[FastAPI]:
    """An app with its own settings whose lifespan never runs (nothing is started or checked);
    its store clients are closed afterwards."""
    app = create_app(make_settings(**overrides))
    try:
        yield app
    finally:
        await app.state.stores.close()


@asynccontextmanager
async def app_with_dead_redis_store(**overrides: Any) -> AsyncIterator[FastAPI]:
    """A `dedicated_app` whose `stores.redis` (codes, OAuth state, token state...) talks to an
    address nothing listens on, while the rate limiter's own pool stays live: what fails closed
    is the feature's store, not the limiter in front of it."""
    async with dedicated_app(**overrides) as app:
        stores = app.state.stores
        live, dead = stores.redis, create_client(make_settings(REDIS_URL="redis://127.0.0.1:1/0"))
        stores.redis = dead
        try:
            yield app
        finally:
            stores.redis = live
            await dead.aclose()
