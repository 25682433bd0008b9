"""The docs pages and their files, in process: each page names only the app's own files and
carries its own CSP, the files are an allow-list, and DOCS_ENABLED turns the pages off."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from quartet.api_docs.assets import ASSETS
from quartet.api_docs.router import REDOC_CSP, SWAGGER_CSP
from tests.apps import unstarted_app
from tests.clients import http_for
from tests.responses import without_request_id

SOURCES = re.compile(r'(?:src|href|spec-url|data-[a-z0-9-]+-url)="([^"]*)"')


@pytest.mark.parametrize(("path", "policy"), [("/docs", SWAGGER_CSP), ("/redoc", REDOC_CSP)])
async def test_each_page_loads_only_the_apps_own_files_under_its_csp(
    raw_client: httpx.AsyncClient, path: str, policy: str
) -> None:
    response = await raw_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == policy
    assert response.headers["x-content-type-options"] == "nosniff"  # the middleware's too
    sources = SOURCES.findall(response.text)
    assert sources
    assert all(s.startswith(("/docs/", "/openapi.json")) for s in sources), sources
    assert "<script>" not in response.text  # no inline script for the policy to allow


def test_no_policy_lets_a_script_or_a_connection_leave_the_app() -> None:
    for policy in (SWAGGER_CSP, REDOC_CSP):
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"


async def test_the_oauth2_redirect_page_runs_only_its_own_script(
    raw_client: httpx.AsyncClient,
) -> None:
    response = await raw_client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"script-src 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none'")


@pytest.mark.parametrize("name", sorted(ASSETS))
async def test_every_listed_file_is_served(raw_client: httpx.AsyncClient, name: str) -> None:
    response = await raw_client.get(f"/docs/assets/{name}")
    assert response.status_code == 200
    assert response.content == ASSETS[name].read_bytes()
    kind = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[name.split(".")[-1]]
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["cache-control"] == "public, max-age=3600"


async def test_the_redoc_logo_is_served_where_redoc_asks_for_it(
    raw_client: httpx.AsyncClient,
) -> None:
    response = await raw_client.get("/redoc/logo-mini.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js.map", "..%2Fassets.py", "LICENSE"])
async def test_a_file_not_listed_is_not_found(raw_client: httpx.AsyncClient, name: str) -> None:
    response = await raw_client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
    assert without_request_id(response.json())["error"] == "not_found"


async def test_the_docs_routes_stay_out_of_the_openapi_document(
    raw_client: httpx.AsyncClient,
) -> None:
    paths = (await raw_client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]


async def test_docs_disabled_leaves_only_the_openapi_document() -> None:
    async with unstarted_app(DOCS_ENABLED=False) as app, http_for(app) as http:
        for path in ("/docs", "/docs/oauth2-redirect", "/redoc", "/docs/assets/docs.css"):
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/openapi.json")).status_code == 200


async def test_urls_follow_the_root_path_behind_a_proxy() -> None:
    async with unstarted_app() as app:
        transport = httpx.ASGITransport(app=app, root_path="/quartet")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            page = (await http.get("/docs")).text
    sources = SOURCES.findall(page)
    assert sources
    assert all(s.startswith("/quartet/") for s in sources), sources
