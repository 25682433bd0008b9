"""Redis holds the login attempts and the hand-off codes: without it every step answers 503
`store_unavailable` (never a 500, never a login that skipped the state check)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.apps import app_with_dead_redis_store
from tests.clients import http_for
from tests.oauth.conftest import standin_registry
from tests.oauth.standins import GitHubStandIn, OidcStandIn
from tests.responses import assert_store_unavailable


@pytest.fixture(scope="module")
async def oauth_state_down_app(
    app: FastAPI, idp: OidcStandIn, github: GitHubStandIn
) -> AsyncIterator[FastAPI]:
    """`stores.redis` (OAuth state) is dead; rate limiting keeps its live pool."""
    async with app_with_dead_redis_store() as dedicated:
        dedicated.state.oauth_providers = standin_registry(idp, github)
        yield dedicated


async def test_with_redis_down_every_step_is_a_503(oauth_state_down_app: FastAPI, api: str) -> None:
    async with http_for(oauth_state_down_app) as http:
        http.cookies.set("quartet_oauth", "some-browser-secret")
        for response in (
            await http.get(f"{api}/oauth/idp/initiate"),
            await http.get(f"{api}/oauth/idp/callback", params={"code": "c", "state": "s"}),
            await http.post(f"{api}/oauth/exchange", json={"code": "c"}),
        ):
            assert_store_unavailable(response, "redis")
