"""The app's provider registry pointed at local stand-ins, and the redirect flow driven the way
a browser would drive it (each hop a real HTTP request to the stand-in provider)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.oauth.providers import ProviderRegistry
from quartet.settings import OAuthClientSettings
from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository
from tests.accounts import unique
from tests.conftest import make_settings
from tests.oauth.servers import serve_asgi
from tests.oauth.standins import CLIENT_ID, CLIENT_SECRET, GitHubStandIn, OidcStandIn, OidcUser

FRONTEND = "http://localhost:5173"


@pytest.fixture(scope="session")
def idp() -> Iterator[OidcStandIn]:
    standin = OidcStandIn()
    with serve_asgi(standin.app()) as base_url:
        standin.base_url = base_url
        yield standin


@pytest.fixture(scope="session")
def github() -> Iterator[GitHubStandIn]:
    standin = GitHubStandIn()
    with serve_asgi(standin.app()) as base_url:
        standin.base_url = base_url
        yield standin


@pytest.fixture
def oidc_user(idp: OidcStandIn) -> OidcUser:
    """A fresh person at the OpenID Connect provider, with a verified unique email."""
    user = OidcUser(sub=f"sub-{uuid.uuid4()}", email=f"{unique('oidc')}@example.com")
    idp.reset(user)
    return user


def standin_registry(idp: OidcStandIn, github: GitHubStandIn) -> ProviderRegistry:
    """`idp` (any OpenID Connect provider by issuer) and `github`, both on the stand-ins; a
    `google` without a secret, which must not be offered."""
    client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    settings = make_settings(
        OAUTH_PROVIDERS={
            "idp": OAuthClientSettings.model_validate({**client, "issuer": idp.base_url}),
            "github": OAuthClientSettings.model_validate(client),
            "google": OAuthClientSettings(client_id="no-secret-here"),
        },
        OAUTH_GITHUB_BASE_URL=github.base_url,
        OAUTH_GITHUB_API_URL=f"{github.base_url}/api",
    )
    return ProviderRegistry.from_settings(settings)


@pytest.fixture(autouse=True)
def providers(app: FastAPI, idp: OidcStandIn, github: GitHubStandIn) -> Iterator[None]:
    original = app.state.oauth_providers
    app.state.oauth_providers = standin_registry(idp, github)
    yield
    app.state.oauth_providers = original


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the hops to the stand-in provider (no redirects followed)."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


@dataclass(frozen=True)
class Landing:
    """Where the callback sent the browser: the SPA URL and its query."""

    url: str

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}

    @property
    def code(self) -> str:
        return self.query["code"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def initiate(
    client: httpx.AsyncClient, api: str, provider: str, redirect_to: str | None = None
) -> str:
    """The provider's authorization URL (the binding cookie is now in `client`'s jar)."""
    params = {"redirect_to": redirect_to} if redirect_to else {}
    response = await client.get(f"{api}/oauth/{provider}/initiate", params=params)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def consent(browser: httpx.AsyncClient, authorization_url: str) -> str:
    """The OpenID Connect stand-in consents at once: its answer sends us to our callback."""
    response = await browser.get(authorization_url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def github_consent(
    browser: httpx.AsyncClient, authorization_url: str, decision: str = "allow"
) -> str:
    page = await browser.get(authorization_url)
    assert page.status_code == 200, page.text
    request_id = page.text.split('name="request" value="')[1].split('"')[0]
    response = await browser.post(
        authorization_url.split("?")[0] + "/decide",
        data={"request": request_id, "decision": decision},
    )
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def callback(client: httpx.AsyncClient, callback_url: str) -> Landing:
    response = await client.get(callback_url)
    assert response.status_code == 303, response.text
    assert response.headers["cache-control"] == "no-store"
    return Landing(response.headers["location"])


async def oidc_login(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, api: str, redirect_to: str | None = None
) -> Landing:
    authorization_url = await initiate(client, api, "idp", redirect_to)
    return await callback(client, await consent(browser, authorization_url))


async def exchange(client: httpx.AsyncClient, api: str, code: str) -> httpx.Response:
    return await client.post(f"{api}/oauth/exchange", json={"code": code})


async def mark_email_verified(stores: Stores, user_id: uuid.UUID) -> None:
    async def work(session: AsyncSession) -> None:
        users = UserRepository(session)
        await users.update(await users.get(user_id), {"is_email_verified": True})

    await stores.transactions.run(work)
