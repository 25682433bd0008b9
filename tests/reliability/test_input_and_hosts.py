"""Findings 5 and 6 of the reliability issue. A NUL byte (or an unpaired surrogate) in any text
field is a 422 from the shared input base, before any hashing or store work; it used to be a 500
at register after bcrypt had run. A Host header outside ALLOWED_HOSTS is refused, and the
trailing-slash redirect is built from PUBLIC_BASE_URL, never from the Host header."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from quartet.core.security import PasswordHasher
from tests.accounts import PASSWORD, SignedIn, unique
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import make_settings

NUL = "a\x00b"
SURROGATE = '"a\\ud800b"'  # valid JSON, but no UTF-8 encoding exists for it


async def test_a_nul_in_the_full_name_at_register_is_a_422_before_any_hashing(
    app: FastAPI, client: httpx.AsyncClient, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    original = PasswordHasher.hash

    async def spy(self: PasswordHasher, password: str) -> str:
        hashed.append(password)
        return await original(self, password)

    monkeypatch.setattr(PasswordHasher, "hash", spy)
    body = {"email": f"{unique()}@example.com", "password": PASSWORD, "full_name": NUL}
    response = await client.post(f"{api}/auth/register", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == ["body", "full_name"]
    assert hashed == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/login", {"email": "x@example.com", "password": NUL}),
        ("/posts", {"content": NUL}),
        (
            "/orders/",
            {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}], "customer_name": NUL},
        ),
        ("/logs/", {"event_type": "t", "metadata": NUL}),
    ],
)
async def test_a_nul_in_any_text_field_is_a_422(
    client: httpx.AsyncClient, api: str, user: SignedIn, path: str, body: dict[str, Any]
) -> None:
    response = await client.post(f"{api}{path}", json=body, headers=user.headers)
    assert (response.status_code, response.json()["error"]) == (422, "validation_error")


@pytest.mark.parametrize("path", ["/posts", "/logs/"])
async def test_an_unpaired_surrogate_is_a_422(
    client: httpx.AsyncClient, api: str, user: SignedIn, path: str
) -> None:
    field = "content" if path == "/posts" else "metadata"
    extra = "" if path == "/posts" else ', "event_type": "t"'
    response = await client.post(
        f"{api}{path}",
        content=f'{{"{field}": {SURROGATE}{extra}}}',
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


async def test_a_host_outside_allowed_hosts_is_refused_but_probes_answer(app: FastAPI) -> None:
    async with http_for(app, base_url="http://evil.example") as http:
        refused = await http.post("/api/v1/orders", json={})
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_host")
        assert "location" not in refused.headers
        assert (await http.get("/health/liveness")).status_code == 200


async def test_the_trailing_slash_redirect_is_built_from_the_public_base_url(app: FastAPI) -> None:
    async with (
        dedicated_app(
            PUBLIC_BASE_URL="https://api.example.com", ALLOWED_HOSTS="api.example.com,*.internal"
        ) as application,
        http_for(application, base_url="http://pod-7.internal") as http,
    ):
        response = await http.post("/api/v1/orders?x=1", json={})
        assert response.status_code == 307
        assert response.headers["location"] == "https://api.example.com/api/v1/orders/?x=1"
        evil = await http.post("/api/v1/orders", json={}, headers={"Host": "evil.example"})
        assert evil.status_code == 400
        assert (await http.get("/api/v1/nowhere")).status_code == 404


def test_production_refuses_a_wildcard_in_allowed_hosts() -> None:
    production = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "k" * 40,
        "FIRST_SUPERUSER_PASSWORD": "a-real-production-password-42",
        "BACKEND_CORS_ORIGINS": ["https://app.example.com"],
    }
    assert make_settings(**production, ALLOWED_HOSTS="api.example.com").ALLOWED_HOSTS == [
        "api.example.com"
    ]
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS contains"):
        make_settings(**production, ALLOWED_HOSTS="*")
