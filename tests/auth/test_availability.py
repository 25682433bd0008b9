"""POST /auth/check-availability: one identifier at a time, matched like registration does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.accounts import register, unique, unique_phone


async def _check(http: httpx.AsyncClient, api: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post(f"{api}/auth/check-availability", json=body)


@pytest.mark.parametrize(
    ("field", "spelling"),
    [
        ("email", str.upper),
        ("username", str.upper),
        ("phone", lambda p: f"{p[:2]} {p[2:5]}-{p[5:]}"),
    ],
)
async def test_a_registered_identifier_is_unavailable_in_any_spelling(
    client: httpx.AsyncClient, api: str, field: str, spelling: Any
) -> None:
    account = await register(client, api)
    for value in (account.identifier(field), spelling(account.identifier(field))):
        response = await _check(client, api, {field: value})
        assert response.status_code == 200, response.text
        assert response.json() == {"field": field, "available": False}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", f"{unique()}@example.com"),
        ("username", unique()),
        ("phone", unique_phone()),
    ],
)
async def test_a_free_identifier_is_available(
    client: httpx.AsyncClient, api: str, field: str, value: str
) -> None:
    response = await _check(client, api, {field: value})
    assert response.status_code == 200, response.text
    assert response.json() == {"field": field, "available": True}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com", "username": "alice"},
        {"username": "alice", "phone": "+15550100200"},
        {"email": "a@example.com", "username": "alice", "phone": "+15550100200"},
        {"email": "a@example.com", "nickname": "x"},
        {"email": "not-an-email"},
        {"username": "no spaces allowed"},
    ],
)
async def test_exactly_one_valid_field_is_required(
    client: httpx.AsyncClient, api: str, body: dict[str, Any]
) -> None:
    response = await _check(client, api, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
