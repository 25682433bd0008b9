"""Token checks fail closed: when Redis cannot answer, a valid token gets 503, never 200.

Tokens are minted by the session app; the dedicated app shares its SECRET_KEY, so the tokens
verify cryptographically there and only the revocation check can decide.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.accounts import bearer
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.responses import assert_store_unavailable

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: connections are refused at once


@pytest.fixture(scope="module")
async def redis_down_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with dedicated_app(REDIS_URL=DEAD_REDIS, REDIS_TIMEOUT=0.5) as dedicated:
        yield dedicated


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


async def test_the_rate_limit_and_the_token_check_fail_closed_together(
    redis_down_app: FastAPI, api: str, tokens: dict[str, Any]
) -> None:
    """They share the request's one Redis round trip: when it fails, a route without a token
    check is a 503 too, and so is a forged token (nothing is answered without the limit)."""
    async with http_for(redis_down_app) as http:
        available = await http.post(
            f"{api}/auth/check-availability", json={"username": "nobody-at-all"}
        )
        assert_store_unavailable(available, "redis")
        forged = await http.get(f"{api}/auth/me", headers=bearer(tokens["access_token"] + "x"))
        assert_store_unavailable(forged, "redis")
