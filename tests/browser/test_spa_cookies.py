"""An SPA on its own origin signs in with httpOnly cookies in real Chromium; pages on origins
the API does not list read nothing and cannot act for the user (see conftest for the origins)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page

from tests.accounts import PASSWORD, unique
from tests.browser.conftest import Origins, open_page
from tests.responses import without_request_id
from tests.servers import Server

TOKEN_COOKIES = {"access_token", "refresh_token"}


@pytest.fixture
async def email(api_server: Server, api: str) -> str:
    address = f"{unique('spa')}@example.com"
    async with httpx.AsyncClient(base_url=api_server.base_url, timeout=30) as http:
        created = await http.post(
            f"{api}/auth/register", json={"email": address, "password": PASSWORD}
        )
    assert created.status_code == 201, created.text
    return address


@pytest.fixture
async def spa(
    context: BrowserContext, origins: Origins, api_server: Server, api: str, email: str
) -> Page:
    """The SPA, signed in."""
    tab = await open_page(context, origins.spa, "spa.html", f"{api_server.base_url}{api}")
    login = await tab.evaluate("([e, p]) => spa.login(e, p)", [email, PASSWORD])
    assert login["status"] == 200, login
    return tab


async def _cookies(context: BrowserContext) -> dict[str, dict[str, Any]]:
    return {c["name"]: dict(c) for c in await context.cookies()}


async def _call(page: Page, what: str) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(f"spa.{what}()")
    return result


async def test_the_spa_signs_in_reads_refreshes_and_signs_out_with_httponly_cookies(
    spa: Page, context: BrowserContext, email: str, api: str
) -> None:
    jar = await _cookies(context)
    assert set(jar) == {*TOKEN_COOKIES, "csrf_token"}
    for name, path in (("access_token", api), ("refresh_token", f"{api}/auth/refresh")):
        assert (jar[name]["httpOnly"], jar[name]["secure"]) == (True, True), name
        assert (jar[name]["sameSite"], jar[name]["path"]) == ("Lax", path), name
    assert (jar["csrf_token"]["httpOnly"], jar["csrf_token"]["sameSite"]) == (False, "Lax")
    readable = await spa.evaluate("spa.readableCookies()")
    assert readable == f"csrf_token={jar['csrf_token']['value']}"  # no token for scripts

    me = await _call(spa, "me")
    assert (me["status"], me["body"]["email"]) == (200, email)

    refreshed = await _call(spa, "refresh")
    assert refreshed["status"] == 200, refreshed
    assert {k: refreshed["body"][k] for k in ("access_token", "refresh_token")} == {
        "access_token": None,
        "refresh_token": None,
    }
    rotated = await _cookies(context)
    assert rotated["refresh_token"]["value"] != jar["refresh_token"]["value"]
    assert rotated["access_token"]["value"] != jar["access_token"]["value"]
    assert (await _call(spa, "me"))["status"] == 200

    logout = await _call(spa, "logout")
    assert logout["status"] == 204, logout
    assert await _cookies(context) == {}
    assert (await _call(spa, "me"))["status"] == 401


async def test_two_tabs_refreshing_at_once_both_stay_signed_in(
    spa: Page, context: BrowserContext, origins: Origins, api_server: Server, api: str
) -> None:
    other_tab = await open_page(context, origins.spa, "spa.html", f"{api_server.base_url}{api}")

    both = await asyncio.gather(_call(spa, "refresh"), _call(other_tab, "refresh"))

    assert [r["status"] for r in both] == [200, 200], both
    for tab in (spa, other_tab):
        assert (await _call(tab, "me"))["status"] == 200
    assert (await _call(other_tab, "refresh"))["status"] == 200
    assert (await _call(spa, "me"))["status"] == 200


async def test_pages_on_unlisted_origins_read_nothing(
    spa: Page, context: BrowserContext, origins: Origins, api_server: Server, api: str
) -> None:
    target = f"{api_server.base_url}{api}"
    sibling = await open_page(context, origins.sibling, "attacker.html", target)
    foreign = await open_page(context, origins.foreign, "attacker.html", target)

    for page in (sibling, foreign):
        assert await page.evaluate("attack.read('/auth/me')") == "blocked TypeError"
        assert await page.evaluate("attack.read('/auth/sessions')") == "blocked TypeError"
    # cookies ignore ports: the sibling sees the csrf_token, yet cannot send it (preflight)
    seen = await sibling.evaluate("attack.readableCookies()")
    assert seen.startswith("csrf_token=")
    token = seen.removeprefix("csrf_token=")
    posted = await sibling.evaluate("([t]) => attack.postWithHeader('/auth/logout', t)", [token])
    assert posted == "blocked TypeError"
    assert await foreign.evaluate("attack.readableCookies()") == ""
    for page in (sibling, foreign):  # sent, refused by the API, and unreadable anyway
        assert await page.evaluate("attack.blindPost('/auth/logout')") == "opaque"

    assert (await _call(spa, "me"))["status"] == 200  # still signed in


async def _forge(page: Page, target: str) -> tuple[int, dict[str, Any]]:
    """Submit the page's form as a top-level POST to the logout route; the API's answer."""
    async with page.expect_response(f"{target}/auth/logout") as answer:
        await page.evaluate("attack.forgeForm('/auth/logout')")
    response = await answer.value
    body: dict[str, Any] = await response.json()
    return response.status, body


async def test_forged_form_posts_without_the_csrf_header_are_refused(
    spa: Page, context: BrowserContext, origins: Origins, api_server: Server, api: str
) -> None:
    target = f"{api_server.base_url}{api}"

    sibling = await open_page(context, origins.sibling, "attacker.html", target)
    status, body = await _forge(sibling, target)  # same site: the cookies go along
    assert (status, without_request_id(body)) == (
        403,
        {"error": "csrf_failed", "detail": "Origin is not an allowed SPA origin"},
    )

    injected = await open_page(context, origins.spa, "attacker.html", target)
    status, body = await _forge(injected, target)  # markup on the SPA's own origin
    assert (status, without_request_id(body)) == (
        403,
        {"error": "csrf_failed", "detail": "X-CSRF-Token must echo the csrf_token cookie"},
    )

    foreign = await open_page(context, origins.foreign, "attacker.html", target)
    status, body = await _forge(foreign, target)  # another site: SameSite=Lax keeps them
    assert (status, body["error"]) == (401, "unauthorized")

    assert (await _call(spa, "me"))["status"] == 200  # nothing was signed out
