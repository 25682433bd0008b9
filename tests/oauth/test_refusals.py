"""Every refusal of the redirect flow: state (bad, replayed, expired, another browser's, no
cookie), ID token (nonce, expiry, audience, signature, issuer mix-up), linking by an
unverified email, open redirects, and a reused or unknown hand-off code."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.core.security import hash_token
from quartet.oauth.models import OAuthIdentity
from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import register
from tests.clients import http_for
from tests.oauth.conftest import (
    FRONTEND,
    callback,
    consent,
    exchange,
    initiate,
    mark_email_verified,
    oidc_login,
    query_of,
)
from tests.oauth.standins import OidcStandIn, OidcUser

DEFAULT_LANDING = f"{FRONTEND}/oauth/callback"


async def _identities_for(db: AsyncSession, subject: str) -> list[OAuthIdentity]:
    found = await db.scalars(select(OAuthIdentity).where(col(OAuthIdentity.subject) == subject))
    return list(found)


# -- state and the browser binding -------------------------------------------------------------


async def test_an_unknown_state_is_refused(client: httpx.AsyncClient, api: str) -> None:
    for query in ("?code=abc&state=forged", "?code=abc", ""):
        landing = await callback(client, f"{api}/oauth/idp/callback{query}")
        assert landing.url == f"{DEFAULT_LANDING}?error=invalid_state"


async def test_a_replayed_state_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    callback_url = await consent(browser, await initiate(client, api, "idp", "/cb"))
    assert "code" in (await callback(client, callback_url)).query
    replay = await callback(client, callback_url)  # same state, code and cookie
    assert replay.url == f"{DEFAULT_LANDING}?error=invalid_state"


async def test_an_expired_state_is_refused(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    stores: Stores,
    settings: Settings,
) -> None:
    authorization_url = await initiate(client, api, "idp")
    key = (
        f"{settings.REDIS_KEY_PREFIX}oauth:state:{hash_token(query_of(authorization_url)['state'])}"
    )
    assert 590 <= await stores.redis.ttl(key) <= 600
    await stores.redis.pexpire(key, 1)
    await asyncio.sleep(0.05)
    landing = await callback(client, await consent(browser, authorization_url))
    assert landing.query == {"error": "invalid_state"}


async def test_a_callback_without_the_cookie_is_refused_and_spends_the_state(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    callback_url = await consent(browser, await initiate(client, api, "idp", "/cb"))
    cookies = dict(client.cookies)
    client.cookies.clear()  # login CSRF: the victim's browser never started this login
    assert (await callback(client, callback_url)).url == f"{FRONTEND}/cb?error=invalid_state"
    client.cookies.update(cookies)
    assert (await callback(client, callback_url)).query == {"error": "invalid_state"}


async def test_another_browsers_cookie_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    db: AsyncSession,
) -> None:
    attacker_callback = await consent(browser, await initiate(client, api, "idp"))
    async with http_for(app) as victim:
        await initiate(victim, api, "idp")  # the victim has a cookie, but for its own login
        landing = await callback(victim, attacker_callback)
    assert landing.query == {"error": "invalid_state"}
    assert await _identities_for(db, oidc_user.sub) == []


async def test_a_state_from_another_provider_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    callback_url = await consent(browser, await initiate(client, api, "idp"))
    landing = await callback(client, callback_url.replace("/oauth/idp/", "/oauth/github/"))
    assert landing.query == {"error": "invalid_state"}


# -- the ID token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"nonce": "not-the-nonce-we-sent"},
        {"expires_in": -300},
        {"audience": "some-other-client"},
        {"foreign_key": True},
    ],
    ids=["wrong-nonce", "expired", "wrong-audience", "bad-signature"],
)
async def test_a_bad_id_token_is_refused(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
    db: AsyncSession,
    fault: dict[str, object],
) -> None:
    for name, value in fault.items():
        setattr(idp.faults, name, value)
    landing = await oidc_login(client, browser, api, "/cb")
    assert landing.url == f"{FRONTEND}/cb?error=invalid_id_token"
    assert await _identities_for(db, oidc_user.sub) == []


async def test_a_callback_naming_another_issuer_is_refused(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    callback_url = await consent(browser, await initiate(client, api, "idp"))
    landing = await callback(client, callback_url + "&iss=https%3A%2F%2Fevil.example")
    assert landing.query == {"error": "provider_error"}


# -- linking ---------------------------------------------------------------------------------


async def test_an_unverified_provider_email_never_links(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
    stores: Stores,
    db: AsyncSession,
) -> None:
    account = await register(client, api, email=oidc_user.email)
    await mark_email_verified(stores, account.id)
    idp.user.email_verified = False  # anyone can type that address at some providers
    landing = await oidc_login(client, browser, api)
    assert landing.query == {"error": "account_exists"}
    assert await _identities_for(db, oidc_user.sub) == []


async def test_a_verified_provider_email_does_not_link_to_an_unverified_account(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    db: AsyncSession,
) -> None:
    await register(client, api, email=oidc_user.email)  # whoever registered it never proved it
    landing = await oidc_login(client, browser, api)
    assert landing.query == {"error": "account_exists"}
    assert await _identities_for(db, oidc_user.sub) == []


async def test_no_email_means_no_new_account(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    idp: OidcStandIn,
    oidc_user: OidcUser,
) -> None:
    idp.user.email = None
    assert (await oidc_login(client, browser, api)).query == {"error": "email_required"}


# -- redirect_to -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_to",
    [
        "https://evil.example/cb",
        "//evil.example/cb",
        "/\\evil.example",
        "\\\\evil.example",
        "http://localhost:5173@evil.example/",
        "http://evil.example#http://localhost:5173",
        "http://localhost:5174/cb",
        "https://localhost:5173/cb",
        "javascript:alert(1)",
        "data:text/html,hi",
        " http://evil.example",
        "/cb\r\nSet-Cookie: x=1",
        "http://localhost:5173:80/cb",
        "ftp://localhost:5173/",
    ],
)
async def test_open_redirects_are_refused(
    client: httpx.AsyncClient, api: str, redirect_to: str
) -> None:
    response = await client.get(f"{api}/oauth/idp/initiate", params={"redirect_to": redirect_to})
    assert response.status_code == 422
    assert response.json()["error"] == "redirect_not_allowed"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("redirect_to", "lands_on"),
    [
        (None, f"{FRONTEND}/oauth/callback"),
        ("/after/login?tab=2", f"{FRONTEND}/after/login?tab=2&code="),
        ("http://localhost:3000/cb", "http://localhost:3000/cb?code="),
        ("HTTP://LOCALHOST:5173/cb#top", "http://LOCALHOST:5173/cb?code="),
    ],
)
async def test_allowed_redirects_land_there(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    redirect_to: str | None,
    lands_on: str,
) -> None:
    landing = await oidc_login(client, browser, api, redirect_to)
    assert landing.url.startswith(lands_on)
    assert landing.query["code"]


# -- the hand-off code -----------------------------------------------------------------------


async def test_an_exchange_code_works_once(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, oidc_user: OidcUser
) -> None:
    code = (await oidc_login(client, browser, api)).code
    assert (await exchange(client, api, code)).status_code == 200
    reused = await exchange(client, api, code)
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_exchange_code"


async def test_an_exchange_code_is_stored_hashed_for_a_minute(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    api: str,
    oidc_user: OidcUser,
    stores: Stores,
    settings: Settings,
) -> None:
    code = (await oidc_login(client, browser, api)).code
    keys = [
        k async for k in stores.redis.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}oauth:handoff:*")
    ]
    assert keys == [f"{settings.REDIS_KEY_PREFIX}oauth:handoff:{hash_token(code)}"]
    assert 55 <= await stores.redis.ttl(keys[0]) <= 60
    await stores.redis.pexpire(keys[0], 1)
    await asyncio.sleep(0.05)
    assert (await exchange(client, api, code)).status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "made-up"}, 401),
        ({"code": ""}, 422),
        ({"code": "x" * 129}, 422),
        ({"code": "x", "extra": 1}, 422),
        ({}, 422),
    ],
)
async def test_bad_exchange_bodies_are_refused(
    client: httpx.AsyncClient, api: str, body: dict[str, object], status: int
) -> None:
    response = await client.post(f"{api}/oauth/exchange", json=body)
    assert response.status_code == status
    assert response.json()["error"] == (
        "invalid_exchange_code" if status == 401 else "validation_error"
    )
