"""Request ids, security headers and CORS on the real app (in process)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from quartet.api_docs.router import REDOC_CSP, SWAGGER_CSP
from tests.apps import unstarted_app
from tests.clients import http_for

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")  # a UUIDv7 in hex


async def test_well_formed_request_id_is_echoed(raw_client: httpx.AsyncClient) -> None:
    for request_id in ("abc12345", "req-2026.11.22:0001_x", "A" * 128):
        response = await raw_client.get("/health", headers={"X-Request-ID": request_id})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize(
    "bad",
    [
        "has spaces in it",
        "A" * 129,  # too long
        "short",  # too short
        "semi;colon-1234",
        "<script>alert(1)</script>",
        "",
    ],
)
async def test_malformed_request_id_is_replaced(raw_client: httpx.AsyncClient, bad: str) -> None:
    response = await raw_client.get("/no-such-page", headers={"X-Request-ID": bad})
    generated = response.headers["x-request-id"]
    assert generated != bad
    assert GENERATED_ID.match(generated)
    assert response.json()["request_id"] == generated  # the error body names the same id


async def test_each_request_gets_its_own_id(raw_client: httpx.AsyncClient) -> None:
    ids = {(await raw_client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(GENERATED_ID.match(i) for i in ids)


async def test_security_headers_on_api_answers(raw_client: httpx.AsyncClient) -> None:
    for path in ("/health", "/no-such-page"):
        headers = (await raw_client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cross-origin-opener-policy"] == "same-origin"
        assert "camera=()" in headers["permissions-policy"]
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "strict-transport-security" not in headers  # not production: no TLS promise


async def test_docs_keep_their_own_csp_and_get_the_other_headers(
    raw_client: httpx.AsyncClient,
) -> None:
    for path, policy in (("/docs", SWAGGER_CSP), ("/redoc", REDOC_CSP)):
        response = await raw_client.get(path)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assert response.headers["content-security-policy"] == policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-request-id"]


@pytest.fixture
async def production_client() -> AsyncIterator[httpx.AsyncClient]:
    async with (
        unstarted_app(
            ENVIRONMENT="production",
            SECRET_KEY="p" * 48,
            FIRST_SUPERUSER_PASSWORD="a-real-production-password-42",
            BACKEND_CORS_ORIGINS="https://app.example.com",
        ) as app,
        http_for(app, base_url="https://testserver") as http,
    ):
        yield http


async def test_hsts_only_in_production(production_client: httpx.AsyncClient) -> None:
    response = await production_client.get("/health")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_allows_only_the_configured_origins(
    production_client: httpx.AsyncClient,
) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await production_client.options(
        "/health", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert allowed.headers["access-control-allow-credentials"] == "true"

    refused = await production_client.options(
        "/health", headers={"Origin": "https://evil.example.net", **preflight}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    simple = await production_client.get("/health", headers={"Origin": "https://app.example.com"})
    exposed = simple.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed
    assert "retry-after" in exposed
