"""`GET /auth/identities` and `DELETE /auth/identities/{provider}`: never the last way in."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from quartet.oauth.providers import ProviderRegistry
from quartet.settings import OAuthClientSettings
from quartet.stores.registry import Stores
from tests.accounts import bearer, register
from tests.conftest import free_port, make_settings
from tests.oauth.conftest import (
    FRONTEND,
    callback,
    exchange,
    github_consent,
    initiate,
    mark_email_verified,
    oidc_login,
)
from tests.oauth.standins import CLIENT_ID, CLIENT_SECRET, GitHubStandIn, GitHubUser, OidcUser


async def _oauth_tokens(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str
) -> dict[str, str]:
    response = await exchange(client, api, (await oidc_login(client, browser, api)).code)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def test_identities_need_a_token(client: httpx.AsyncClient, api: str) -> None:
    assert (await client.get(f"{api}/auth/identities")).status_code == 401
    assert (await client.delete(f"{api}/auth/identities/idp")).status_code == 401


async def test_the_only_login_method_cannot_be_removed(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    headers = bearer((await _oauth_tokens(client, browser, api))["access_token"])
    refused = await client.delete(f"{api}/auth/identities/idp", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"] == "last_login_method"
    missing = await client.delete(f"{api}/auth/identities/github", headers=headers)
    assert missing.status_code == 404
    listed = await client.get(f"{api}/auth/identities", headers=headers)
    assert [i["provider"] for i in listed.json()] == ["idp"]


async def test_a_second_provider_links_by_verified_email_then_one_can_go(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    github: GitHubStandIn,
) -> None:
    headers = bearer((await _oauth_tokens(client, browser, api))["access_token"])
    github.user = GitHubUser(
        id=900_000 + hash(oidc_user.sub) % 100_000,
        login="linked",
        emails=[{"email": oidc_user.email, "primary": True, "verified": True}],
    )
    landing = await callback(
        client, await github_consent(browser, await initiate(client, api, "github"))
    )
    assert (await exchange(client, api, landing.code)).status_code == 200
    listed = await client.get(f"{api}/auth/identities", headers=headers)
    assert [i["provider"] for i in listed.json()] == ["github", "idp"]

    assert (await client.delete(f"{api}/auth/identities/idp", headers=headers)).status_code == 204
    last = await client.delete(f"{api}/auth/identities/github", headers=headers)
    assert last.status_code == 409


async def test_concurrent_unlinks_leave_one_way_in(
    raw_client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    github: GitHubStandIn,
) -> None:
    """Real commits (no test transaction), so each DELETE is its own transaction."""
    client = raw_client
    headers = bearer((await _oauth_tokens(client, browser, api))["access_token"])
    github.user = GitHubUser(
        id=950_000 + hash(oidc_user.sub) % 40_000,
        login="race",
        emails=[{"email": oidc_user.email, "primary": True, "verified": True}],
    )
    landing = await callback(
        client, await github_consent(browser, await initiate(client, api, "github"))
    )
    assert (await exchange(client, api, landing.code)).status_code == 200
    results = await asyncio.gather(
        client.delete(f"{api}/auth/identities/idp", headers=headers),
        client.delete(f"{api}/auth/identities/github", headers=headers),
    )
    assert sorted(r.status_code for r in results) == [204, 409]


async def test_a_password_account_may_remove_its_only_identity(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    stores: Stores,
) -> None:
    account = await register(client, api, email=oidc_user.email)
    await mark_email_verified(stores, account.id)
    headers = bearer((await _oauth_tokens(client, browser, api))["access_token"])
    assert (await client.delete(f"{api}/auth/identities/idp", headers=headers)).status_code == 204
    assert (await client.get(f"{api}/auth/identities", headers=headers)).json() == []


async def test_an_unreachable_provider_sends_the_browser_back_with_an_error(
    app: FastAPI, client: httpx.AsyncClient, api: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(
        OAUTH_PROVIDERS={
            "down": OAuthClientSettings.model_validate(
                {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "issuer": closed}
            )
        },
        OAUTH_HTTP_TIMEOUT=2,
    )
    app.state.oauth_providers = ProviderRegistry.from_settings(settings)
    response = await client.get(f"{api}/oauth/down/initiate", params={"redirect_to": "/cb"})
    assert response.status_code == 302
    assert response.headers["location"] == f"{FRONTEND}/cb?error=provider_unavailable"
    assert "set-cookie" not in response.headers
