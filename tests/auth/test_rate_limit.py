"""Rate limits on Redis: the auth budget, the global budget, and who counts as the caller.

Dedicated apps with small limits; each test calls from its own addresses, so budgets never
overlap. The addresses also show that X-Forwarded-For is believed only from a trusted proxy.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import bearer, login, register, unique
from tests.apps import dedicated_app
from tests.auth.flows import unique_ip
from tests.clients import http_for
from tests.responses import without_request_id

AUTH_LIMIT = 3
GLOBAL_LIMIT = 4
PROXY = "10.0.0.0/8"
UNLIMITED = "100000"  # the test settings' other limit


@pytest.fixture(scope="module")
async def auth_limited(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with dedicated_app(AUTH_RATE_LIMIT_PER_MINUTE=AUTH_LIMIT, TRUSTED_PROXIES=PROXY) as a:
        yield a


@pytest.fixture(scope="module")
async def globally_limited(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with dedicated_app(RATE_LIMIT_PER_MINUTE=GLOBAL_LIMIT) as dedicated:
        yield dedicated


async def _check(
    http: httpx.AsyncClient, api: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    body = {"email": f"{unique()}@example.com"}
    return await http.post(f"{api}/auth/check-availability", json=body, headers=headers)


def _assert_allowed(response: httpx.Response, limit: int | str, remaining: int) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == str(remaining)
    reset = int(response.headers["x-ratelimit-reset"])
    assert time.time() - 1 <= reset <= math.ceil(time.time()) + 61


def _assert_limited(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    body = without_request_id(response.json())
    assert body["error"] == "rate_limited"
    assert body["detail"].startswith(f"Rate limit of {limit} per minute exceeded; retry in ")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert body["detail"].endswith(f"retry in {retry_after}s")
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    reset = int(response.headers["x-ratelimit-reset"])
    assert reset - math.floor(time.time()) in (retry_after - 1, retry_after, retry_after + 1)


async def test_the_request_after_the_auth_budget_is_a_429(auth_limited: FastAPI, api: str) -> None:
    async with http_for(auth_limited, unique_ip()) as http:
        for remaining in range(AUTH_LIMIT - 1, -1, -1):
            _assert_allowed(await _check(http, api), AUTH_LIMIT, remaining)
        _assert_limited(await _check(http, api), AUTH_LIMIT)
        _assert_limited(await _check(http, api), AUTH_LIMIT)  # refused calls keep it shut


async def test_every_auth_endpoint_draws_on_the_same_budget(
    auth_limited: FastAPI, api: str
) -> None:
    async with http_for(auth_limited, unique_ip()) as http:
        account = await register(http, api)  # 1
        tokens = await login(http, api, account)  # 2
        refreshed = await http.post(
            f"{api}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )  # 3
        _assert_allowed(refreshed, AUTH_LIMIT, 0)

        refused = await http.post(
            f"{api}/auth/login", json={"email": account.email, "password": account.password}
        )
        _assert_limited(refused, AUTH_LIMIT)
        _assert_limited(
            await http.post(f"{api}/auth/token", data={"username": account.email, "password": "x"}),
            AUTH_LIMIT,
        )

        # routes that are not auth flows are not on the auth budget, only the global one
        for _ in range(AUTH_LIMIT + 2):
            me = await http.get(f"{api}/auth/me", headers=bearer(refreshed.json()["access_token"]))
            assert me.status_code == 200, me.text
            assert me.headers["x-ratelimit-limit"] == UNLIMITED


async def test_the_global_budget_covers_the_other_api_routes(
    globally_limited: FastAPI, api: str
) -> None:
    async with http_for(globally_limited, unique_ip()) as http:
        tokens = await login(http, api, await register(http, api))  # 2 of 4
        _assert_allowed(
            await http.get(f"{api}/auth/me", headers=bearer(tokens["access_token"])),
            GLOBAL_LIMIT,
            1,
        )
        _assert_allowed(
            await http.get(f"{api}/auth/sessions", headers=bearer(tokens["access_token"])),
            GLOBAL_LIMIT,
            0,
        )
        _assert_limited(
            await http.get(f"{api}/auth/me", headers=bearer(tokens["access_token"])),
            GLOBAL_LIMIT,
        )
        # an auth flow spends both budgets, so it is refused by the exhausted global one
        _assert_limited(await _check(http, api), GLOBAL_LIMIT)
        # probes are outside the API and never limited
        health = await http.get("/health")
        assert health.status_code == 200
        assert "x-ratelimit-limit" not in health.headers


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    auth_limited: FastAPI, api: str
) -> None:
    alice, bob = unique_ip(), unique_ip()
    async with http_for(auth_limited, "10.0.0.1") as proxy:
        for remaining in range(AUTH_LIMIT - 1, -1, -1):
            _assert_allowed(await _check(proxy, api, alice), AUTH_LIMIT, remaining)
        _assert_limited(await _check(proxy, api, alice), AUTH_LIMIT)

        _assert_allowed(await _check(proxy, api, bob), AUTH_LIMIT, AUTH_LIMIT - 1)
        # a client cannot escape by prepending addresses: the right-most untrusted hop counts
        _assert_limited(await _check(proxy, api, f"{unique_ip()}, {alice}"), AUTH_LIMIT)
        # ... and hops that are trusted proxies themselves are skipped
        _assert_limited(await _check(proxy, api, f"{alice}, 10.1.2.3"), AUTH_LIMIT)


async def test_the_forwarded_client_is_what_sessions_and_audit_record(
    auth_limited: FastAPI, api: str
) -> None:
    client_ip = unique_ip()
    async with http_for(auth_limited, "10.0.0.1") as proxy:
        forwarded = {"X-Forwarded-For": client_ip}
        name = unique()
        registered = await proxy.post(
            f"{api}/auth/register",
            json={"email": f"{name}@example.com", "password": "correct-horse-9"},
            headers=forwarded,
        )
        assert registered.status_code == 201, registered.text
        logged_in = await proxy.post(
            f"{api}/auth/login",
            json={"email": f"{name}@example.com", "password": "correct-horse-9"},
            headers=forwarded,
        )
        assert logged_in.status_code == 200, logged_in.text
        sessions = await proxy.get(
            f"{api}/auth/sessions", headers=bearer(logged_in.json()["access_token"])
        )
    assert [s["ip"] for s in sessions.json()] == [client_ip]


async def test_from_an_untrusted_peer_x_forwarded_for_is_ignored(
    auth_limited: FastAPI, api: str
) -> None:
    async with http_for(auth_limited, unique_ip(192)) as http:
        for remaining in range(AUTH_LIMIT - 1, -1, -1):
            _assert_allowed(await _check(http, api, unique_ip()), AUTH_LIMIT, remaining)
        _assert_limited(await _check(http, api, unique_ip()), AUTH_LIMIT)
        _assert_limited(await _check(http, api), AUTH_LIMIT)


async def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    globally_limited: FastAPI, api: str
) -> None:
    async with http_for(globally_limited, "10.0.0.1") as http:
        for _ in range(GLOBAL_LIMIT):
            response = await http.get(f"{api}/auth/me", headers={"X-Forwarded-For": unique_ip()})
            assert response.status_code == 401  # counted before authentication
        refused = await http.get(f"{api}/auth/me", headers={"X-Forwarded-For": unique_ip()})
        _assert_limited(refused, GLOBAL_LIMIT)


async def test_a_redis_that_lost_the_limiter_script_still_counts_every_hit(
    auth_limited: FastAPI, api: str
) -> None:
    """The limiter sends only the script's SHA; a Redis that forgot the script (a restart, a
    SCRIPT FLUSH) is taught it again and the hit is counted once, not lost or doubled."""
    redis = auth_limited.state.stores.redis
    async with http_for(auth_limited, unique_ip()) as http:
        await redis.script_flush()
        _assert_allowed(await _check(http, api), AUTH_LIMIT, AUTH_LIMIT - 1)
        await redis.script_flush()
        _assert_allowed(await _check(http, api), AUTH_LIMIT, AUTH_LIMIT - 2)
