"""Token checks fail closed: when Redis cannot answer, a valid token gets 503, never 200.

Tokens are minted by the session app; the dedicated apps share its SECRET_KEY, so the tokens
verify cryptographically there and only the revocation check can decide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from quartet.stores.redis import create_client
from tests.accounts import bearer
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import make_settings
from tests.responses import assert_store_unavailable

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: connections are refused at once


@pytest.fixture(scope="module")
async def redis_down_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with dedicated_app(REDIS_URL=DEAD_REDIS, REDIS_TIMEOUT=0.5) as dedicated:
        yield dedicated


@pytest.fixture(scope="module")
async def auth_state_down_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Rate limiting still reaches Redis (its storage keeps the live pool); everything else
    that asks `stores.redis`, which includes the token check, talks to a dead address."""
    async with dedicated_app() as dedicated:
        stores = dedicated.state.stores
        live, dead = stores.redis, create_client(make_settings(REDIS_URL=DEAD_REDIS))
        stores.redis = dead
        try:
            yield dedicated
        finally:
            stores.redis = live
            await dead.aclose()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/auth/me"), ("GET", "/auth/sessions"), ("POST", "/auth/logout")],
)
async def test_with_redis_down_a_valid_token_is_a_503(
    redis_down_app: FastAPI, api: str, tokens: dict[str, Any], method: str, path: str
) -> None:
    async with http_for(redis_down_app) as http:
        for headers in (
            bearer(tokens["access_token"]),
            bearer(tokens["session_token"]),
            {"X-Session-Token": tokens["session_token"]},
        ):
            assert_store_unavailable(
                await http.request(method, f"{api}{path}", headers=headers), "redis"
            )


async def test_when_only_the_revocation_check_fails_a_valid_token_is_a_503(
    auth_state_down_app: FastAPI, api: str, tokens: dict[str, Any]
) -> None:
    async with http_for(auth_state_down_app) as http:
        # the rate limiter (and PostgreSQL) answer: a route without a token check works
        available = await http.post(
            f"{api}/auth/check-availability", json={"username": "nobody-at-all"}
        )
        assert available.status_code == 200, available.text
        assert_store_unavailable(
            await http.get(f"{api}/auth/me", headers=bearer(tokens["access_token"])), "redis"
        )
        # a forged token is refused before Redis is asked
        forged = await http.get(f"{api}/auth/me", headers=bearer(tokens["access_token"] + "x"))
        assert forged.status_code == 401
        assert forged.json()["error"] == "invalid_token"
