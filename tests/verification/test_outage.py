"""A store that cannot answer gives 503 store_unavailable on the lifecycle endpoints, never a
500; the code and send budgets fail closed with Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.apps import app_with_dead_redis_store, dedicated_app
from tests.clients import http_for
from tests.conftest import free_port
from tests.responses import assert_store_unavailable
from tests.verification.codes import send_code, verify_code


@pytest.fixture
async def codes_redis_down(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The code store (`stores.redis`) is dead; rate limiting keeps its live pool."""
    async with app_with_dead_redis_store() as dedicated:
        yield dedicated


async def test_codes_fail_closed_without_redis(codes_redis_down: FastAPI, api: str) -> None:
    async with http_for(codes_redis_down) as http:
        sent = await send_code(http, api, "email", "someone@example.com", "login")
        assert_store_unavailable(sent, "redis")
        checked = await verify_code(http, api, "someone@example.com", "login", "123456")
        assert_store_unavailable(checked, "redis")
        forgot = await http.post(f"{api}/auth/forgot-password", json={"email": "a@example.com"})
        assert_store_unavailable(forgot, "redis")


async def test_links_answer_503_without_postgres(app: FastAPI, api: str) -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/quartet"
    async with (
        dedicated_app(DATABASE_URL=dead, DB_RETRY_MAX_ATTEMPTS=1) as dedicated,
        http_for(dedicated) as http,
    ):
        forgot = await http.post(f"{api}/auth/forgot-password", json={"email": "a@example.com"})
        assert_store_unavailable(forgot, "postgres")
        verified = await http.post(f"{api}/auth/verify-email", json={"token": "A" * 43})
        assert_store_unavailable(verified, "postgres")
