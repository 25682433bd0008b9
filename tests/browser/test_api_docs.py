"""Swagger UI and ReDoc in real Chromium with every host but the app's blocked: both render
the operations from the app's own files, Swagger's "Authorize" signs in through the OAuth2
password flow and "Try it out" then reads `/auth/me`, and each page's CSP is enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from tests.accounts import PASSWORD, unique
from tests.browser.conftest import free_browser_port
from tests.servers import Server, uvicorn_server

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
RENDER_TIMEOUT_MS = 60_000  # the bundles parse slowly on a loaded machine

# Records what the page tried and what its CSP refused; an init script runs before any of the
# page's own, and is not subject to the page's policy (Playwright adds it).
_WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.effectiveDirective, blocked: e.blockedURI});
});
"""
_INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__injected = true";
  document.body.appendChild(script);
}"""


@pytest.fixture(scope="module")
def docs_server(app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with its default settings (bearer tokens in the body, as Swagger needs)."""
    log = tmp_path_factory.mktemp("docs") / "uvicorn.log"
    with uvicorn_server(free_browser_port(), log) as server:
        yield server


@dataclass
class Watched:
    """What one browser profile tried to reach outside the app, and what its pages logged."""

    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
async def offline(browser: Browser, docs_server: Server) -> AsyncIterator[tuple[BrowserContext, Watched]]:
    """A profile that can reach the app's origin and nothing else: any other request is
    recorded and aborted."""
    watched = Watched()
    context = await browser.new_context()

    async def only_the_app(route: Route) -> None:
        url = route.request.url
        if url.startswith(f"{docs_server.base_url}/"):
            await route.continue_()
        else:
            watched.foreign.append(url)
            await route.abort()

    await context.route("**/*", only_the_app)
    await context.add_init_script(_WATCH_VIOLATIONS)
    context.on("console", lambda message: _note_error(watched, message))
    try:
        yield context, watched
    finally:
        await context.close()


def _note_error(watched: Watched, message: ConsoleMessage) -> None:
    if message.type == "error":
        watched.console_errors.append(message.text)


@pytest.fixture
async def account(docs_server: Server, api: str) -> str:
    """A registered account's email."""
    email = f"{unique('docs')}@example.com"
    async with httpx.AsyncClient(base_url=docs_server.base_url, timeout=30) as http:
        created = await http.post(f"{api}/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    return email


@pytest.fixture
async def operations(docs_server: Server) -> int:
    """How many operations the app's OpenAPI document has."""
    async with httpx.AsyncClient(base_url=docs_server.base_url, timeout=30) as http:
        document = (await http.get("/openapi.json")).json()
    return sum(len(HTTP_METHODS & set(item)) for item in document["paths"].values())


async def _violations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate("window.__violations")
    return found


async def _open(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None
    assert response.status == 200, response.status
    return page


async def test_swagger_lists_the_operations_and_authorize_signs_in(
    offline: tuple[BrowserContext, Watched],
    docs_server: Server,
    account: str,
    operations: int,
    api: str,
) -> None:
    context, watched = offline
    page = await _open(context, f"{docs_server.base_url}/docs")
    blocks = page.locator(".opblock")
    try:
        await blocks.first.wait_for(timeout=30000)
    finally:
        print("DEBUG", watched, await _violations(page), (await page.inner_text("body"))[:3000])
    print("opblocks", await blocks.count(), "operations", operations)

    await page.locator(".scheme-container button.authorize").click()
    oauth = page.locator(".auth-container").filter(has=page.locator("#oauth_username"))
    await oauth.locator("#oauth_username").fill(account)
    await oauth.locator("#oauth_password").fill(PASSWORD)
    async with page.expect_response(f"**{api}/auth/token") as token_answer:
        await oauth.locator("button.authorize").click()
    token = await token_answer.value
    print("token", token.status, await token.text())
    await oauth.locator("button", has_text="Logout").wait_for()
    await page.locator(".dialog-ux button.btn-done").click()

    me = page.locator(".opblock").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{api}/auth/me"]')
    )
    await me.locator(".opblock-summary").click()
    await me.locator("button.try-out__btn").click()
    async with page.expect_response(f"**{api}/auth/me") as me_answer:
        await me.locator("button.execute").click()
    answer = await me_answer.value
    print("me", answer.status, await answer.request.all_headers())
    print("violations", await _violations(page))
    await page.evaluate(_INJECT_INLINE_SCRIPT)
    print("injected", await page.evaluate("window.__injected"), await _violations(page))
    print("foreign", watched.foreign, "errors", watched.console_errors)


async def test_redoc_renders_the_operations(
    offline: tuple[BrowserContext, Watched], docs_server: Server, operations: int, api: str
) -> None:
    context, watched = offline
    page = await _open(context, f"{docs_server.base_url}/redoc")
    sections = page.locator('[data-section-id*="operation/"]')
    await sections.first.wait_for(timeout=RENDER_TIMEOUT_MS)
    print("sections", await sections.count(), "operations", operations)
    print("violations", await _violations(page))
    await page.evaluate(_INJECT_INLINE_SCRIPT)
    print("injected", await page.evaluate("window.__injected"), await _violations(page))
    print("foreign", watched.foreign, "errors", watched.console_errors)
