"""The cookie transport (AUTH_TRANSPORT), its CSRF double submit and CORS, in process.

The session's app runs the default `both`; apps of their own run `cookie` and `bearer`. The
same flows in a real browser: tests/browser/.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import Account, bearer, login, me, register
from tests.apps import dedicated_app
from tests.auth.cookies import (
    COOKIE_NAMES,
    SPA_ORIGIN,
    browser_headers,
    set_cookies,
    values,
)
from tests.auth.flows import assert_invalid_refresh, session_row
from tests.clients import http_for
from tests.conftest import make_settings
from tests.responses import without_request_id
from tests.test_settings import SAFE_PRODUCTION

CSRF_MISSING = {"error": "csrf_failed", "detail": "X-CSRF-Token must echo the csrf_token cookie"}
BAD_ORIGIN = {"error": "csrf_failed", "detail": "Origin is not an allowed SPA origin"}


async def _cookie_login(http: httpx.AsyncClient, api: str, account: Account) -> httpx.Response:
    response = await http.post(
        f"{api}/auth/login",
        json={"email": account.email, "password": account.password},
        headers={"Origin": SPA_ORIGIN},
    )
    assert response.status_code == 200, response.text
    return response


def _assert_forbidden(response: httpx.Response, expected: dict[str, Any]) -> None:
    assert response.status_code == 403, response.text
    assert without_request_id(response.json()) == expected


async def test_login_sets_the_three_cookies_and_still_answers_with_the_tokens(
    client: httpx.AsyncClient, api: str
) -> None:
    response = await _cookie_login(client, api, await register(client, api))
    body = response.json()
    cookies = set_cookies(response)

    assert set(cookies) == COOKIE_NAMES
    assert cookies["access_token"].value == body["access_token"]
    assert cookies["refresh_token"].value == body["refresh_token"]
    for name, path, max_age, httponly in (
        ("access_token", api, 60 * 60, True),
        ("refresh_token", f"{api}/auth/refresh", 30 * 86_400, True),
        ("csrf_token", "/", 30 * 86_400, False),
    ):
        morsel = cookies[name]
        assert morsel["path"] == path, name
        assert morsel["max-age"] == str(max_age), name
        assert bool(morsel["httponly"]) is httponly, name
        assert morsel["secure"] is True, name
        assert morsel["samesite"].lower() == "lax", name
        assert not morsel["domain"], name
    session_hex = cookies["csrf_token"].value.split(".")[0]
    assert session_hex == body["session_id"].replace("-", "")  # bound to the session


async def test_the_oauth2_form_login_sets_the_cookies_too(
    client: httpx.AsyncClient, api: str
) -> None:
    account = await register(client, api)
    response = await client.post(
        f"{api}/auth/token", data={"username": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    assert set(set_cookies(response)) == COOKIE_NAMES


async def test_the_access_cookie_authenticates_safe_requests_without_csrf(
    client: httpx.AsyncClient, api: str
) -> None:
    account = await register(client, api)
    cookies = values(await _cookie_login(client, api, account))
    response = await client.get(
        f"{api}/auth/me", headers=browser_headers({"access_token": cookies["access_token"]})
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == account.email


async def test_an_unsafe_cookie_request_needs_origin_and_the_double_submit(
    client: httpx.AsyncClient, api: str
) -> None:
    cookies = values(await _cookie_login(client, api, await register(client, api)))
    csrf = cookies["csrf_token"]
    logout = f"{api}/auth/logout"

    _assert_forbidden(await client.post(logout, headers=browser_headers(cookies)), CSRF_MISSING)
    _assert_forbidden(  # a form post: the cookie, but no header
        await client.post(logout, headers=browser_headers(cookies), data={"csrf_token": csrf}),
        CSRF_MISSING,
    )
    _assert_forbidden(
        await client.post(logout, headers=browser_headers(cookies, csrf=csrf + "x")),
        CSRF_MISSING,
    )
    for origin in ("https://evil.example.net", "null", None):
        _assert_forbidden(
            await client.post(logout, headers=browser_headers(cookies, csrf=csrf, origin=origin)),
            BAD_ORIGIN,
        )
    forged = csrf.rsplit(".", 1)[0] + ".AAAA"  # a tossed cookie with a made-up signature
    _assert_forbidden(
        await client.post(
            logout, headers=browser_headers({**cookies, "csrf_token": forged}, csrf=forged)
        ),
        {"error": "csrf_failed", "detail": "Invalid CSRF token"},
    )
    assert (await client.get(f"{api}/auth/me", headers=browser_headers(cookies))).status_code == 200

    done = await client.post(logout, headers=browser_headers(cookies, csrf=csrf))
    assert done.status_code == 204, done.text
    cleared = set_cookies(done)
    assert set(cleared) == COOKIE_NAMES
    assert {m["max-age"] for m in cleared.values()} == {"0"}
    assert cleared["refresh_token"]["path"] == f"{api}/auth/refresh"
    gone = await client.get(f"{api}/auth/me", headers=browser_headers(cookies))
    assert gone.status_code == 401


async def test_a_csrf_token_of_another_session_is_refused(
    client: httpx.AsyncClient, api: str
) -> None:
    """Cookie tossing: a sibling host plants the attacker's own valid CSRF token."""
    victim = values(await _cookie_login(client, api, await register(client, api)))
    attacker = values(await _cookie_login(client, api, await register(client, api)))
    tossed = {**victim, "csrf_token": attacker["csrf_token"]}
    _assert_forbidden(
        await client.post(
            f"{api}/auth/logout", headers=browser_headers(tossed, csrf=attacker["csrf_token"])
        ),
        {"error": "csrf_failed", "detail": "CSRF token belongs to another session"},
    )


async def test_bearer_requests_need_neither_origin_nor_csrf(
    client: httpx.AsyncClient, api: str
) -> None:
    tokens = await login(client, api, await register(client, api))
    response = await client.post(f"{api}/auth/logout", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204, response.text


async def test_a_cookie_refresh_rotates_into_cookies_only(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    first = await _cookie_login(client, api, await register(client, api))
    cookies = values(first)
    headers = browser_headers(
        {"refresh_token": cookies["refresh_token"], "csrf_token": cookies["csrf_token"]},
        csrf=cookies["csrf_token"],
    )

    response = await client.post(f"{api}/auth/refresh", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["access_token"], body["session_token"], body["refresh_token"]) == (
        None,
        None,
        None,
    )
    assert body["session_id"] == first.json()["session_id"]
    rotated = values(response)
    assert set(rotated) == COOKIE_NAMES
    assert rotated["refresh_token"] != cookies["refresh_token"]
    assert (await me(client, api, rotated["access_token"])).status_code == 200
    assert (await session_row(db, body["session_id"])).rotation_counter == 1

    again = await client.post(f"{api}/auth/refresh", headers=headers)  # two tabs: grace
    assert again.status_code == 200, again.text
    assert values(again)["refresh_token"] == rotated["refresh_token"]


async def test_a_cookie_refresh_without_csrf_is_refused_and_rotates_nothing(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    first = await _cookie_login(client, api, await register(client, api))
    cookies = {"refresh_token": values(first)["refresh_token"]}

    refused = await client.post(f"{api}/auth/refresh", headers=browser_headers(cookies))

    _assert_forbidden(refused, CSRF_MISSING)
    assert not set_cookies(refused)
    assert (await session_row(db, first.json()["session_id"])).rotation_counter == 0


async def test_a_cookie_refresh_is_confined_to_the_session_its_csrf_token_names(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    victim = await _cookie_login(client, api, await register(client, api))
    attacker = values(await _cookie_login(client, api, await register(client, api)))
    cookies = {
        "refresh_token": values(victim)["refresh_token"],
        "csrf_token": attacker["csrf_token"],
    }

    response = await client.post(
        f"{api}/auth/refresh", headers=browser_headers(cookies, csrf=attacker["csrf_token"])
    )

    assert_invalid_refresh(response)
    row = await session_row(db, victim.json()["session_id"])
    assert (row.rotation_counter, row.revoked_at) == (0, None)


async def test_a_body_refresh_answers_in_the_body_and_beats_the_cookie(
    client: httpx.AsyncClient, api: str
) -> None:
    tokens = (await _cookie_login(client, api, await register(client, api))).json()
    response = await client.post(
        f"{api}/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        headers={"Cookie": "refresh_token=" + "x" * 43},  # no CSRF needed, cookie ignored
    )
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] == values(response)["refresh_token"]


async def test_a_refresh_with_no_token_anywhere_is_a_401(
    client: httpx.AsyncClient, api: str
) -> None:
    assert_invalid_refresh(await client.post(f"{api}/auth/refresh"))


async def test_cookie_only_transport_never_puts_a_token_in_a_body_or_reads_a_header(
    api: str,
) -> None:
    async with dedicated_app(AUTH_TRANSPORT="cookie") as app, http_for(app) as http:
        account = await register(http, api)
        response = await _cookie_login(http, api, account)
        body, cookies = response.json(), values(response)
        assert (body["access_token"], body["session_token"], body["refresh_token"]) == (
            None,
            None,
            None,
        )
        assert set(cookies) == COOKIE_NAMES
        assert (await me(http, api, cookies["access_token"])).status_code == 401  # header
        access = {"access_token": cookies["access_token"]}
        assert (
            await http.get(f"{api}/auth/me", headers=browser_headers(access))
        ).status_code == 200
        ignored = await http.post(
            f"{api}/auth/refresh", json={"refresh_token": cookies["refresh_token"]}
        )
        assert_invalid_refresh(ignored)


async def test_bearer_only_transport_sets_and_reads_no_cookie(api: str) -> None:
    async with dedicated_app(AUTH_TRANSPORT="bearer") as app, http_for(app) as http:
        account = await register(http, api)
        response = await _cookie_login(http, api, account)
        assert not set_cookies(response)
        tokens = response.json()
        access = {"access_token": tokens["access_token"]}
        assert (
            await http.get(f"{api}/auth/me", headers=browser_headers(access))
        ).status_code == 401
        assert (await me(http, api, tokens["access_token"])).status_code == 200


async def test_insecure_cookies_for_local_http_development(api: str) -> None:
    async with dedicated_app(AUTH_COOKIE_SECURE=False) as app, http_for(app) as http:
        response = await _cookie_login(http, api, await register(http, api))
        assert {name: m["secure"] for name, m in set_cookies(response).items()} == dict.fromkeys(
            COOKIE_NAMES, ""
        )


async def test_cors_speaks_of_credentials_only_to_listed_origins(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-csrf-token",
    }
    listed = await raw_client.options(
        f"{api}/auth/logout", headers={"Origin": SPA_ORIGIN, **preflight}
    )
    assert listed.status_code == 200, listed.text
    assert listed.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert listed.headers["access-control-allow-credentials"] == "true"
    assert "x-csrf-token" in listed.headers["access-control-allow-headers"].lower()

    unlisted = await raw_client.options(
        f"{api}/auth/logout", headers={"Origin": "http://127.0.0.1:1", **preflight}
    )
    assert unlisted.status_code == 400
    assert without_request_id(unlisted.json()) == {
        "error": "cors_refused",
        "detail": "Disallowed CORS origin",
    }
    simple = await raw_client.get("/health", headers={"Origin": "http://127.0.0.1:1"})
    assert simple.status_code == 200
    for refused in (unlisted, simple):
        assert "access-control-allow-origin" not in refused.headers
        assert "access-control-allow-credentials" not in refused.headers
    listed_simple = await raw_client.get("/health", headers={"Origin": SPA_ORIGIN})
    assert listed_simple.headers["access-control-allow-credentials"] == "true"


def test_openapi_documents_the_refresh_cookie_and_the_csrf_refusal(app: FastAPI, api: str) -> None:
    schema = app.openapi()
    refresh = schema["paths"][f"{api}/auth/refresh"]["post"]
    assert [(p["name"], p["in"]) for p in refresh["parameters"]] == [("refresh_token", "cookie")]
    assert not refresh["requestBody"].get("required")  # the cookie may replace the body
    assert set(refresh["responses"]) >= {"200", "401", "403", "422"}
    assert "AccessCookie" in schema["components"]["securitySchemes"]


def test_production_refuses_insecure_cookies() -> None:
    with pytest.raises(ValidationError, match="AUTH_COOKIE_SECURE is off"):
        make_settings(**{**SAFE_PRODUCTION, "AUTH_COOKIE_SECURE": False})
    assert make_settings(**SAFE_PRODUCTION).AUTH_COOKIE_SECURE
