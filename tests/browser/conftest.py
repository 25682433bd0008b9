"""A real headless Chromium (Debian's `chromium`, driven by Playwright) against a real uvicorn
of the app, with the test pages served on origins of their own:

- the SPA, `http://127.0.0.1:<a>`: listed in BACKEND_CORS_ORIGINS. Another port of the API's
  host: another origin but the same site, as `app.example.com` and `api.example.com` are, which
  is what `SameSite=Lax` cookies need;
- a sibling, `http://127.0.0.1:<b>`: same site, not listed (a page on a neighbouring host);
- a foreign site, `http://localhost:<c>`: another site altogether.

Cookies keep `Secure` (the production default): Chromium treats loopback origins as
potentially trustworthy, so it stores and sends Secure cookies over http to 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from quartet.local_ports import BROWSER_TEST_PORTS
from tests.servers import Server, first_free_port, uvicorn_server

PAGES = Path(__file__).parent / "pages"
APT_TIMEOUT_S = 1200


def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (as the stores are)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail("the browser tests need Debian's chromium: apt-get install chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    for command in ([*apt, "update", "-qq"], [*apt, "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=APT_TIMEOUT_S
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return shutil.which("chromium") or pytest.fail("apt-get installed no chromium command")


class _QuietPages(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Not on the test output."""


def _pages_server() -> ThreadingHTTPServer:
    """The pages on the first free port of BROWSER_TEST_PORTS."""
    handler = functools.partial(_QuietPages, directory=str(PAGES))
    for port in BROWSER_TEST_PORTS:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
    pytest.fail(f"no free port in {BROWSER_TEST_PORTS} for a page server")


@dataclass(frozen=True)
class Origins:
    spa: str
    sibling: str
    foreign: str


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    servers = [_pages_server() for _ in range(3)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    spa, sibling, foreign = (s.server_address[1] for s in servers)
    try:
        yield Origins(
            f"http://127.0.0.1:{spa}", f"http://127.0.0.1:{sibling}", f"http://localhost:{foreign}"
        )
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def api_server(
    app: FastAPI, origins: Origins, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The app in cookie-only transport, trusting the SPA's origin alone (`app` guarantees
    the run's database, keyspace and prefix)."""
    log = tmp_path_factory.mktemp("browser") / "uvicorn.log"
    with uvicorn_server(
        first_free_port(BROWSER_TEST_PORTS, "the app"),
        log,
        AUTH_TRANSPORT="cookie",
        BACKEND_CORS_ORIGINS=origins.spa,
    ) as server:
        yield server


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(),
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile (its own cookie jar) per test."""
    fresh = await browser.new_context()
    try:
        yield fresh
    finally:
        await fresh.close()


async def open_page(context: BrowserContext, origin: str, page: str, api: str) -> Page:
    """`page` of the pages directory on `origin`, talking to the API at `api`."""
    tab = await context.new_page()
    response = await tab.goto(f"{origin}/{page}?api={api}")
    assert response is not None
    assert response.ok, response.status
    return tab
