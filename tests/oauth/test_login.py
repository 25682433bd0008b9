"""Social login that succeeds: account creation, repeat logins, linking by verified email,
GitHub's email choice, and the hand-off giving exactly what `/auth/login` gives."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.audit.models import AuditLog
from quartet.stores.registry import Stores
from tests.accounts import bearer, login, me, register, unique
from tests.oauth.conftest import (
    FRONTEND,
    callback,
    consent,
    exchange,
    github_consent,
    initiate,
    mark_email_verified,
    oidc_login,
    query_of,
)
from tests.oauth.standins import GitHubStandIn, GitHubUser, OidcStandIn, OidcUser


async def test_providers_lists_only_the_configured_ones(
    client: httpx.AsyncClient, api: str
) -> None:
    response = await client.get(f"{api}/oauth/providers")
    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "github",
            "display_name": "GitHub",
            "initiate_url": f"{api}/oauth/github/initiate",
        },
        {"name": "idp", "display_name": "Idp", "initiate_url": f"{api}/oauth/idp/initiate"},
    ]
    unknown = await client.get(f"{api}/oauth/google/initiate")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_provider"


async def test_initiate_sends_state_pkce_and_nonce_and_binds_the_browser(
    client: httpx.AsyncClient, api: str, idp: OidcStandIn, oidc_user: OidcUser
) -> None:
    response = await client.get(f"{api}/oauth/idp/initiate", params={"redirect_to": "/done"})
    assert response.status_code == 302
    sent = query_of(response.headers["location"])
    assert response.headers["location"].startswith(f"{idp.base_url}/authorize?")
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 43
    assert len(sent["nonce"]) >= 43
    assert sent["redirect_uri"] == f"http://testserver{api}/oauth/idp/callback"
    cookie = response.headers["set-cookie"].lower()
    for attribute in (
        "quartet_oauth=",
        "httponly",
        "samesite=lax",
        f"path={api}/oauth/",
        "max-age=600",
    ):
        assert attribute in cookie


async def test_oidc_login_creates_an_oauth_account_and_exchange_matches_login(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    db: AsyncSession,
) -> None:
    landing = await oidc_login(client, browser, api, "/welcome")
    assert landing.url.startswith(f"{FRONTEND}/welcome?code=")
    response = await exchange(client, api, landing.code)
    assert response.status_code == 200, response.text
    tokens = response.json()

    profile = (await me(client, api, tokens["access_token"])).json()
    assert profile["email"] == oidc_user.email
    assert profile["auth_type"] == "oauth"
    assert profile["is_email_verified"] is True
    assert profile["full_name"] == "Ada Lovelace"

    password_account = await register(client, api)
    assert set(tokens) == set(await login(client, api, password_account))
    identities = await client.get(f"{api}/auth/identities", headers=bearer(tokens["access_token"]))
    assert [(i["provider"], i["email"], i["email_verified"]) for i in identities.json()] == [
        ("idp", oidc_user.email, True)
    ]
    rows = await db.scalars(
        select(AuditLog).where(col(AuditLog.user_id) == uuid.UUID(profile["id"]))
    )
    trail = {row.action: row.data for row in rows}
    assert {"auth.register", "oauth.link", "auth.login"} <= set(trail)
    assert trail["oauth.link"] == {"provider": "idp"}
    assert trail["auth.login"]["method"] == "oauth"
    # created through the one account-creation path: in the default group like any sign-up
    groups = await client.get(f"{api}/users/me/groups", headers=bearer(tokens["access_token"]))
    assert groups.status_code == 200, groups.text
    assert "user" in {membership["group"]["codename"] for membership in groups.json()}


async def test_the_same_subject_logs_in_to_the_same_account(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
) -> None:
    first = (await exchange(client, api, (await oidc_login(client, browser, api)).code)).json()
    idp.user.email = f"{unique('changed')}@example.com"  # a changed email at the provider
    second = (await exchange(client, api, (await oidc_login(client, browser, api)).code)).json()
    first_id = (await me(client, api, first["access_token"])).json()["id"]
    assert (await me(client, api, second["access_token"])).json()["id"] == first_id
    assert first["session_id"] != second["session_id"]


async def test_a_verified_email_links_to_the_verified_account(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
    stores: Stores,
) -> None:
    account = await register(
        client, api, email=oidc_user.email.upper() if oidc_user.email else None
    )
    await mark_email_verified(stores, account.id)
    tokens = (await exchange(client, api, (await oidc_login(client, browser, api)).code)).json()
    profile = (await me(client, api, tokens["access_token"])).json()
    assert profile["id"] == str(account.id)
    assert profile["auth_type"] == "password"


async def test_github_login_uses_the_verified_primary_email(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, github: GitHubStandIn
) -> None:
    primary = f"{unique('gh')}@example.com"
    github.user = GitHubUser(
        id=700_000 + hash(primary) % 100_000,
        login=unique("octo"),
        emails=[
            {"email": f"{unique('other')}@example.com", "primary": False, "verified": True},
            {"email": primary, "primary": True, "verified": True},
        ],
        name=None,
    )
    authorization_url = await initiate(client, api, "github", f"{FRONTEND}/cb")
    sent = query_of(authorization_url)
    assert "nonce" not in sent
    assert sent["code_challenge_method"] == "S256"
    landing = await callback(client, await github_consent(browser, authorization_url))
    tokens = (await exchange(client, api, landing.code)).json()
    profile = (await me(client, api, tokens["access_token"])).json()
    assert (profile["email"], profile["is_email_verified"]) == (primary, True)
    assert profile["full_name"] == github.user.login


async def test_github_unverified_email_makes_an_unverified_account(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, github: GitHubStandIn
) -> None:
    email = f"{unique('ghu')}@example.com"
    github.user = GitHubUser(
        id=800_000 + hash(email) % 100_000,
        login=unique("octo"),
        emails=[{"email": email, "primary": True, "verified": False}],
    )
    authorization_url = await initiate(client, api, "github")
    landing = await callback(client, await github_consent(browser, authorization_url))
    tokens = (await exchange(client, api, landing.code)).json()
    profile = (await me(client, api, tokens["access_token"])).json()
    assert (profile["email"], profile["is_email_verified"]) == (email, False)


async def test_provider_denial_lands_in_the_spa_with_an_error(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, github: GitHubStandIn
) -> None:
    authorization_url = await initiate(client, api, "github", "/cb")
    landing = await callback(client, await github_consent(browser, authorization_url, "deny"))
    assert landing.url == f"{FRONTEND}/cb?error=access_denied"


async def test_a_code_the_provider_refuses_lands_in_the_spa_with_an_error(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
) -> None:
    callback_url = await consent(browser, await initiate(client, api, "idp"))
    idp.grants.clear()  # the provider no longer knows the code: its token endpoint says so
    landing = await callback(client, callback_url)
    assert landing.url == f"{FRONTEND}/oauth/callback?error=provider_error"
