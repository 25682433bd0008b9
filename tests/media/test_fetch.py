"""Uploads by URL, and the SSRF guard: every refusal is proved against real local HTTP servers.

`internal` (127.0.0.1) plays a service on the private network holding a secret; `cdn`
(127.0.0.2) plays a public web server, allowed by the fetcher's policy as an operator would
allow a CDN with MEDIA_FETCH_ALLOWED_NETWORKS. Host names are resolved by a test hook, never by
DNS, and each server counts the requests it received, so a refusal also shows nothing was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from fastapi import FastAPI

from quartet.media.addresses import AddressPolicy
from quartet.media.dependencies import get_url_fetcher
from quartet.media.fetch import UrlFetcher
from quartet.media.storage import ObjectStorage
from tests.accounts import SignedIn
from tests.media import samples
from tests.media.conftest import MAX_BYTES, all_keys, stored_bytes

PUBLIC_IP = "127.0.0.2"
INTERNAL_IP = "127.0.0.1"


@dataclass
class Server:
    host: str
    port: int = 0
    hits: list[str] = field(default_factory=list)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


@dataclass
class Resolver:
    """The test's DNS: fixed answers, and a log of every question."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    rebinding: dict[str, list[str]] = field(default_factory=dict)
    """Names that answer one address per question, the next one each time."""
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        if host in self.rebinding:
            return [self.rebinding[host].pop(0)]
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


async def _serve(server: Server, routes: web.RouteTableDef) -> web.AppRunner:
    app = web.Application()
    app.add_routes(routes)

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.hits.append(request.path)
        return await handler(request)

    app.middlewares.append(count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, server.host, 0)
    await site.start()
    server.port = runner.addresses[0][1]
    return runner


@pytest.fixture(scope="module")
async def servers() -> AsyncIterator[tuple[Server, Server]]:
    internal, cdn = Server(INTERNAL_IP), Server(PUBLIC_IP)
    secret_routes, cdn_routes = web.RouteTableDef(), web.RouteTableDef()

    @secret_routes.get("/secret")
    async def secret(_: web.Request) -> web.Response:
        return web.Response(body=samples.image("PNG"), content_type="image/png")

    @cdn_routes.get("/photos/cat.jpg")
    async def photo(_: web.Request) -> web.Response:
        return web.Response(body=samples.jpeg_with_gps(), content_type="image/jpeg")

    @cdn_routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    @cdn_routes.get("/loop")
    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    @cdn_routes.get("/huge")
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "video/mp4"
        await response.prepare(request)  # chunked, no Content-Length
        await response.write(samples.mp4(64 * 1024))
        for _ in range(2 * MAX_BYTES // (64 * 1024)):
            await response.write(b"\0" * 64 * 1024)
        return response

    @cdn_routes.get("/slow")
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=samples.pdf())

    @cdn_routes.get("/missing")
    async def missing(_: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    runners = [await _serve(internal, secret_routes), await _serve(cdn, cdn_routes)]
    yield internal, cdn
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(
        {
            "cdn.example": [PUBLIC_IP],
            "intranet.example": [INTERNAL_IP],
            "private.example": ["10.0.0.7"],
            "mixed.example": [PUBLIC_IP, INTERNAL_IP],
        }
    )


@pytest.fixture
def internal(servers: tuple[Server, Server]) -> Server:
    servers[0].hits.clear()
    return servers[0]


@pytest.fixture
def cdn(servers: tuple[Server, Server]) -> Server:
    servers[1].hits.clear()
    return servers[1]


@pytest.fixture
def fetcher(media_app: FastAPI, resolver: Resolver) -> Iterator[UrlFetcher]:
    """The app's fetcher with the test resolver, the CDN's address allowed and a short deadline."""
    guarded = UrlFetcher(
        AddressPolicy([f"{PUBLIC_IP}/32"]),
        resolver=resolver,
        timeout_s=2.0,
        max_redirects=3,
        user_agent="quartet-tests",
    )
    media_app.dependency_overrides[get_url_fetcher] = lambda: guarded
    yield guarded
    media_app.dependency_overrides.pop(get_url_fetcher)


async def fetch(http: httpx.AsyncClient, api: str, who: SignedIn, url: str) -> httpx.Response:
    return await http.post(f"{api}/upload/media", json={"url": url}, headers=who.headers)


async def test_a_public_url_is_fetched_and_stored(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    storage: ObjectStorage,
    fetcher: UrlFetcher,
    cdn: Server,
    resolver: Resolver,
) -> None:
    url = cdn.url("/photos/cat.jpg", host="cdn.example")

    response = await fetch(http, api, owner, url)

    assert response.status_code == 201, response.text
    record = response.json()
    assert record["source_url"] == url
    assert (record["filename"], record["content_type"]) == ("cat.jpg", "image/jpeg")
    assert (record["width"], record["height"]) == (30, 40)
    stored = await stored_bytes(storage, record["id"])
    assert stored is not None
    assert b"Secret Camera" not in stored
    assert cdn.hits == ["/photos/cat.jpg"]
    assert resolver.asked == ["cdn.example"]


@pytest.mark.parametrize(
    "target",
    [
        "http://{internal}/secret",
        "http://localhost:{port}/secret",
        "http://[::1]:{port}/secret",
        "http://[::ffff:127.0.0.1]:{port}/secret",
        "http://intranet.example:{port}/secret",
        "http://private.example:{port}/secret",
        "http://mixed.example:{port}/secret",
    ],
    ids=["ip-literal", "localhost", "ipv6-loopback", "ipv4-mapped", "name", "private", "mixed"],
)
async def test_urls_to_internal_addresses_are_refused_without_a_request(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    storage: ObjectStorage,
    fetcher: UrlFetcher,
    internal: Server,
    resolver: Resolver,
    target: str,
) -> None:
    resolver.answers["localhost"] = ["127.0.0.1", "::1"]
    before = await all_keys(storage)
    url = target.format(internal=f"{internal.host}:{internal.port}", port=internal.port)

    response = await fetch(http, api, owner, url)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "url_not_allowed"
    assert internal.hits == []
    assert await all_keys(storage) == before


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "168.63.129.16",
        "fd00:ec2::254",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:a00:1::",
        "64:ff9b::7f00:1",
    ],
)
async def test_every_non_public_address_class_is_refused(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    fetcher: UrlFetcher,
    resolver: Resolver,
    address: str,
) -> None:
    resolver.answers["victim.example"] = [address]

    response = await fetch(http, api, owner, "http://victim.example/latest/meta-data/")

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "url_not_allowed"


async def test_a_redirect_to_an_internal_address_is_refused(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    fetcher: UrlFetcher,
    cdn: Server,
    internal: Server,
) -> None:
    for target in (internal.url("/secret"), internal.url("/secret", host="intranet.example")):
        url = cdn.url(f"/redirect?to={target}", host="cdn.example")

        response = await fetch(http, api, owner, url)

        assert response.status_code == 422, response.text
        assert response.json()["error"] == "url_not_allowed"
    assert cdn.hits == ["/redirect", "/redirect"]
    assert internal.hits == []


async def test_a_rebinding_name_is_resolved_once_and_its_first_answer_used(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    fetcher: UrlFetcher,
    cdn: Server,
    internal: Server,
    resolver: Resolver,
) -> None:
    """The name answers a public address first and the internal one after; the redirect back
    to the same name must reuse the checked address, not ask again."""
    resolver.rebinding["rebind.example"] = [PUBLIC_IP, INTERNAL_IP]
    photo = cdn.url("/photos/cat.jpg", host="rebind.example")
    url = cdn.url(f"/redirect?to={photo}", host="rebind.example")

    response = await fetch(http, api, owner, url)

    assert response.status_code == 201, response.text
    assert resolver.asked == ["rebind.example"]
    assert cdn.hits == ["/redirect", "/photos/cat.jpg"]
    assert internal.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://cdn.example/file.png",
        "gopher://cdn.example:70/",
        "http://user:secret@cdn.example/photos/cat.jpg",
        "http:///no-host",
        "http://cdn.example:99999/",
    ],
)
async def test_other_schemes_credentials_and_malformed_urls_are_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, fetcher: UrlFetcher, url: str
) -> None:
    response = await fetch(http, api, owner, url)

    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/loop", 502, "fetch_failed"),
        ("/missing", 502, "fetch_failed"),
        ("/slow", 502, "fetch_failed"),
        ("/huge", 413, "media_too_large"),
    ],
)
async def test_remote_failures_and_caps(
    http: httpx.AsyncClient,
    api: str,
    owner: SignedIn,
    storage: ObjectStorage,
    fetcher: UrlFetcher,
    cdn: Server,
    path: str,
    status: int,
    error: str,
) -> None:
    before = await all_keys(storage)

    response = await fetch(http, api, owner, cdn.url(path, host="cdn.example"))

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert await all_keys(storage) == before
    if path == "/loop":
        assert len(cdn.hits) == 4  # the first request and three redirects, no more


async def test_an_unknown_host_and_a_malformed_body_are_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, fetcher: UrlFetcher
) -> None:
    unknown = await fetch(http, api, owner, "http://nowhere.example/a.png")
    extra = await http.post(
        f"{api}/upload/media",
        json={"url": "http://cdn.example/a.png", "x": 1},
        headers=owner.headers,
    )

    assert unknown.status_code == 502
    assert extra.status_code == 422
    assert extra.json()["error"] == "validation_error"
