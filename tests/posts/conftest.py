"""Accounts and posts for the posts tests. Accounts are named "Poster" and have no username unless
told, since an author's name falls back from full_name to username."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.accounts import SignedIn, sign_up

Register = Callable[..., Awaitable[SignedIn]]


def registrar(http: httpx.AsyncClient, api: str) -> Register:
    async def register(
        *, full_name: str | None = "Poster", username: str | None = None
    ) -> SignedIn:
        return await sign_up(http, api, full_name=full_name, username=username)

    return register


@pytest.fixture
def register(client: httpx.AsyncClient, api: str) -> Register:
    """A new account through the rolled-back client."""
    return registrar(client, api)


@pytest.fixture
def raw_register(raw_client: httpx.AsyncClient, api: str) -> Register:
    """A new account that really commits (unique email), for concurrency tests."""
    return registrar(raw_client, api)


async def create_post(
    http: httpx.AsyncClient, api: str, who: SignedIn, content: str = "p"
) -> dict[str, Any]:
    response = await http.post(f"{api}/posts", json={"content": content}, headers=who.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
