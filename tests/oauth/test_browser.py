"""End to end in headless Chromium: a static SPA on its own origin, the real app under uvicorn,
a real OpenID Connect provider (oidc-provider-mock) and the GitHub stand-in. The browser clicks
"Log in with ...", passes the provider's page, lands in the SPA, which exchanges the one-time
code and shows `/auth/me`. Screenshots of each step go to artefacts/oauth/ (not committed)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, Route, async_playwright

from tests.conftest import ROOT, free_port
from tests.oauth.browser import chromium_path
from tests.oauth.servers import serve_asgi, serve_directory
from tests.oauth.standins import CLIENT_ID, CLIENT_SECRET, GitHubStandIn, GitHubUser
from tests.servers import Server, uvicorn_server

ARTEFACTS = ROOT / "artefacts" / "oauth"
SPA_DIR = Path(__file__).parent / "spa"
LOOPBACK = {"127.0.0.1", "localhost"}


@dataclass(frozen=True)
class Stack:
    api: Server
    spa: str
    oidc_issuer: str
    github: GitHubStandIn


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """oidc-provider-mock in its own process, requiring a nonce; yields its issuer URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1"),
                *("--port", str(port), "--require-nonce", "true"),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(
                    f"{issuer}/.well-known/openid-configuration", timeout=2
                ).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"oidc-provider-mock did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(
    app: FastAPI, oidc_provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    github = GitHubStandIn()
    with serve_asgi(github.app()) as github_url, serve_directory(SPA_DIR) as spa_port:
        github.base_url = github_url
        spa = f"http://localhost:{spa_port}"  # another host than the API's 127.0.0.1
        env = {
            "FRONTEND_BASE_URL": spa,
            "BACKEND_CORS_ORIGINS": spa,
            "OAUTH_MOCK_ISSUER": oidc_provider,
            "OAUTH_MOCK_CLIENT_ID": CLIENT_ID,
            "OAUTH_MOCK_CLIENT_SECRET": CLIENT_SECRET,
            "OAUTH_GITHUB_CLIENT_ID": CLIENT_ID,
            "OAUTH_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "OAUTH_GITHUB_BASE_URL": github_url,
            "OAUTH_GITHUB_API_URL": f"{github_url}/api",
        }
        log = tmp_path_factory.mktemp("uvicorn-oauth") / "server.log"
        with uvicorn_server(free_port(), log, **env) as api:
            yield Stack(api, spa, oidc_provider, github)


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        try:
            tab = await browser.new_page()

            async def loopback_only(route: Route) -> None:
                # nothing leaves the machine (the provider page's CDN stylesheet included)
                if urlsplit(route.request.url).hostname in LOOPBACK:
                    await route.continue_()
                else:
                    await route.abort()

            await tab.route("**/*", loopback_only)
            yield tab
        finally:
            await browser.close()


async def _shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


async def _signed_in_profile(page: Page, stack: Stack, shots: str) -> dict[str, object]:
    await page.wait_for_url(f"{stack.spa}/callback.html")
    await page.wait_for_selector("#me[data-state=done], #me[data-state=error]")
    await _shot(page, f"{shots}-3-spa-signed-in")
    text = await page.text_content("#me") or ""
    assert await page.get_attribute("#me", "data-state") == "done", text
    assert "code=" not in page.url
    profile: dict[str, object] = json.loads(text)
    return profile


async def _open_spa(page: Page, stack: Stack, provider: str, shots: str) -> None:
    await page.goto(f"{stack.spa}/index.html?api={stack.api.base_url}")
    await page.wait_for_selector("#providers[data-state=ready]")
    await _shot(page, f"{shots}-1-spa")
    await page.click(f"#login-{provider}")


async def test_oidc_login_in_a_real_browser(page: Page, stack: Stack) -> None:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    subject = f"e2e-{uuid.uuid4().hex[:10]}"
    claims = {"email": email, "email_verified": True, "name": "Grace Hopper"}
    async with httpx.AsyncClient(timeout=5) as http:  # the person's account at the provider
        (await http.put(f"{stack.oidc_issuer}/users/{subject}", json=claims)).raise_for_status()

    await _open_spa(page, stack, "mock", "oidc")
    await page.wait_for_url(f"{stack.oidc_issuer}/oauth2/authorize?*")
    await page.fill("input[name=sub]", subject)
    await _shot(page, "oidc-2-provider-page")
    await page.get_by_role("button", name="Authorize", exact=True).click()

    profile = await _signed_in_profile(page, stack, "oidc")
    assert profile["email"] == email
    assert profile["auth_type"] == "oauth"
    assert profile["is_email_verified"] is True
    assert profile["full_name"] == "Grace Hopper"


async def test_github_login_in_a_real_browser(page: Page, stack: Stack) -> None:
    email = f"gh-e2e-{uuid.uuid4().hex[:10]}@example.com"
    stack.github.user = GitHubUser(
        id=int(uuid.uuid4().int % 10**9),
        login="e2e-octo",
        emails=[{"email": email, "primary": True, "verified": True}],
        name="Octo E2E",
    )
    await _open_spa(page, stack, "github", "github")
    await page.wait_for_url(f"{stack.github.base_url}/login/oauth/authorize?*")
    await _shot(page, "github-2-provider-page")
    await page.click("#authorize")

    profile = await _signed_in_profile(page, stack, "github")
    assert profile["email"] == email
    assert profile["full_name"] == "Octo E2E"
    assert profile["auth_type"] == "oauth"


async def test_a_denied_github_login_lands_in_the_spa_with_the_error(
    page: Page, stack: Stack
) -> None:
    await _open_spa(page, stack, "github", "github-denied")
    await page.wait_for_url(f"{stack.github.base_url}/login/oauth/authorize?*")
    await page.click("#cancel")
    await page.wait_for_selector("#me[data-state=error]")
    await _shot(page, "github-denied-3-spa")
    assert await page.text_content("#me") == "login failed: access_denied"
