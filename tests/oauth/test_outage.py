"""Redis holds the login attempts and the hand-off codes: without it every step answers 503
`store_unavailable` (never a 500, never a login that skipped the state check)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from quartet.stores.redis import create_client
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import make_settings
from tests.oauth.conftest import standin_registry
from tests.oauth.standins import GitHubStandIn, OidcStandIn
from tests.responses import assert_store_unavailable


@pytest.fixture(scope="module")
async def oauth_state_down_app(
    app: FastAPI, idp: OidcStandIn, github: GitHubStandIn
) -> AsyncIterator[FastAPI]:
    """Rate limiting keeps the live pool; `stores.redis` (OAuth state) talks to a dead port."""
    async with dedicated_app() as dedicated:
        dedicated.state.oauth_providers = standin_registry(idp, github)
        stores = dedicated.state.stores
        live, dead = stores.redis, create_client(make_settings(REDIS_URL="redis://127.0.0.1:1/0"))
        stores.redis = dead
        try:
            yield dedicated
        finally:
            stores.redis = live
            await dead.aclose()


async def test_with_redis_down_every_step_is_a_503(oauth_state_down_app: FastAPI, api: str) -> None:
    async with http_for(oauth_state_down_app) as http:
        http.cookies.set("quartet_oauth", "some-browser-secret")
        for response in (
            await http.get(f"{api}/oauth/idp/initiate"),
            await http.get(f"{api}/oauth/idp/callback", params={"code": "c", "state": "s"}),
            await http.post(f"{api}/oauth/exchange", json={"code": "c"}),
        ):
            assert_store_unavailable(response, "redis")
