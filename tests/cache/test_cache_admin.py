"""/cache/status, /cache/clear, /cache/{key}: cache.read / cache.clear, never outside the cache
namespace (sessions, revocations, rate limits and lockouts survive a clear)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, login, sign_up_superuser
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import test_env as run_env
from tests.responses import without_request_id

BULK = 1234  # more than two SCAN batches


def namespace(settings: Settings) -> str:
    return f"{settings.REDIS_KEY_PREFIX}cache:"


async def prefix_keys(stores: Stores, prefix: str) -> list[str]:
    return sorted([key async for key in stores.redis.scan_iter(match=f"{prefix}*", count=500)])


def key_url(api: str, key: str) -> str:
    return f"{api}/cache/{quote(key, safe='')}"


async def fill(stores: Stores, keys: list[str]) -> None:
    async with stores.redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, '{"value": 1}', ex=300)
        await pipe.execute()


async def test_managing_the_cache_needs_its_permissions(
    client: httpx.AsyncClient, api: str, user: SignedIn, settings: Settings
) -> None:
    some_key = key_url(api, f"{namespace(settings)}x")
    for method, url, permission in (
        ("GET", f"{api}/cache/status", "cache.read"),
        ("POST", f"{api}/cache/clear", "cache.clear"),
        ("DELETE", some_key, "cache.clear"),
    ):
        forbidden = await client.request(method, url, headers=user.headers)
        assert forbidden.status_code == 403, forbidden.text
        body = forbidden.json()
        assert (body["error"], body["detail"]) == (
            "permission_denied",
            f"Requires the permission {permission}",
        )
        assert (await client.request(method, url)).status_code == 401


async def test_status_reports_the_server_and_the_namespace(
    client: httpx.AsyncClient,
    api: str,
    superuser: SignedIn,
    user: SignedIn,
    stores: Stores,
    settings: Settings,
) -> None:
    for account in (user, superuser, user):  # two misses and a hit in this process
        assert (await client.get(f"{api}/auth/me", headers=account.headers)).status_code == 200
    response = await client.get(f"{api}/cache/status", headers=superuser.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["redis_version"].startswith("7.")
    assert body["uptime_seconds"] > 0
    assert body["used_memory_bytes"] > 0
    assert body["used_memory_human"]
    assert body["keyspace_hits"] >= 0
    assert body["keyspace_misses"] >= 0
    assert body["namespace"] == namespace(settings)
    assert body["keys"] == len(await prefix_keys(stores, namespace(settings))) >= 2
    counters = body["this_process"]
    assert counters["hits"] >= 1
    assert counters["misses"] >= 2
    assert counters["failing"] is False


async def test_clear_removes_the_namespace_only(
    client: httpx.AsyncClient,
    api: str,
    user: SignedIn,
    superuser: SignedIn,
    stores: Stores,
    settings: Settings,
) -> None:
    prefix, ns = settings.REDIS_KEY_PREFIX, namespace(settings)
    await client.get(f"{api}/auth/me", headers=user.headers)  # a real cached profile
    await fill(stores, [f"{ns}bulk:{i}" for i in range(BULK)])
    await fill(stores, [f"{prefix}decoy:cache:1", f"{prefix}cachex:1"])  # look alike, outside
    ended = await login(client, api, user)  # a second login of the user, then ended
    logout = await client.post(f"{api}/auth/logout", headers=bearer(ended["access_token"]))
    assert logout.status_code == 204
    failed = await client.post(f"{api}/auth/login", json={"email": user.email, "password": "x"})
    assert failed.status_code == 401  # leaves a lockout counter
    session_before = (await client.get(f"{api}/session/{user.id}", headers=user.headers)).json()

    everything = await prefix_keys(stores, prefix)
    in_namespace = [k for k in everything if k.startswith(ns)]
    outside = set(everything) - set(in_namespace)
    assert len(in_namespace) > BULK
    for part in ("session:", "auth:revoked:", "auth:lockout:", "ratelimit", "decoy:", "cachex:"):
        assert any(k.startswith(prefix + part) for k in outside), part

    response = await client.post(f"{api}/cache/clear", headers=superuser.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": len(in_namespace)}
    after = set(await prefix_keys(stores, prefix))
    assert not [k for k in after if k.startswith(ns)]
    assert outside <= after  # sessions, revocations, lockouts, rate limits, look-alikes

    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 200
    session_after = await client.get(f"{api}/session/{user.id}", headers=user.headers)
    assert session_after.json()["session_token"] == session_before["session_token"]
    revoked = await client.get(f"{api}/auth/me", headers=bearer(ended["access_token"]))
    assert revoked.status_code == 401  # the revocation survived the clear
    refilled = await prefix_keys(stores, ns)
    assert refilled  # /auth/me above cached the profile again
    again = await client.post(f"{api}/cache/clear", headers=superuser.headers)
    assert again.json() == {"deleted": len(refilled)}


async def test_clear_treats_a_prefix_with_glob_characters_literally(api: str) -> None:
    """SCAN MATCH would read `[ab]*?` in a prefix as a pattern and reach other keys."""
    run_prefix = run_env()["REDIS_KEY_PREFIX"]
    prefix = f"{run_prefix}g[ab]*?:"
    async with dedicated_app(REDIS_KEY_PREFIX=prefix) as app, http_for(app) as http:
        stores: Stores = app.state.stores
        admin = await sign_up_superuser(http, api, app.state.stores)
        inside, lookalike = f"{prefix}cache:y", f"{run_prefix}gaZZ:cache:x"
        await fill(stores, [inside, lookalike])
        response = await http.post(f"{api}/cache/clear", headers=admin.headers)
        assert response.status_code == 200, response.text
        assert await stores.redis.exists(inside) == 0
        assert await stores.redis.exists(lookalike) == 1
        assert response.json()["deleted"] >= 1
        named = await http.delete(key_url(api, f"{prefix}cache:z"), headers=admin.headers)
        assert named.status_code == 404  # a literal prefix is not a wildcard


async def test_delete_removes_one_key_inside_the_namespace(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, stores: Stores, settings: Settings
) -> None:
    ns = namespace(settings)
    await fill(stores, [f"{ns}one", f"{ns}two"])
    deleted = await client.delete(key_url(api, f"{ns}one"), headers=superuser.headers)
    assert deleted.status_code == 204
    assert await stores.redis.exists(f"{ns}one") == 0
    assert await stores.redis.exists(f"{ns}two") == 1
    missing = await client.delete(key_url(api, f"{ns}one"), headers=superuser.headers)
    assert missing.status_code == 404
    assert without_request_id(missing.json()) == {
        "error": "not_found",
        "detail": "No such cache key",
    }


KeyMaker = Callable[[str, uuid.UUID], str]


@pytest.mark.parametrize(
    "make_key",
    [
        lambda prefix, user_id: f"{prefix}session:{user_id}",  # another part of the app
        lambda prefix, user_id: f"session:{user_id}",
        lambda prefix, user_id: f"user:{user_id}:profile",  # a name without the namespace
        lambda prefix, user_id: f"{prefix}cache",
        lambda prefix, user_id: f"{prefix}cache:",  # the namespace itself
        lambda prefix, user_id: f"{prefix}cach:x",
        lambda prefix, user_id: f"{prefix}cache:*",
        lambda prefix, user_id: f"{prefix}cache:two*",
        lambda prefix, user_id: f"{prefix}cache:tw?",
        lambda prefix, user_id: f"{prefix}cache:[t]wo",
        lambda prefix, user_id: f"{prefix}cache:two]",
    ],
)
async def test_delete_refuses_keys_outside_the_namespace_or_with_wildcards(
    client: httpx.AsyncClient,
    api: str,
    superuser: SignedIn,
    stores: Stores,
    settings: Settings,
    make_key: KeyMaker,
) -> None:
    ns = namespace(settings)
    await fill(stores, [f"{ns}two"])
    session_key = f"{settings.REDIS_KEY_PREFIX}session:{{{superuser.id}}}"
    before = set(await prefix_keys(stores, settings.REDIS_KEY_PREFIX))
    assert session_key in before
    key = make_key(settings.REDIS_KEY_PREFIX, superuser.id)
    response = await client.delete(key_url(api, key), headers=superuser.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert before <= set(await prefix_keys(stores, settings.REDIS_KEY_PREFIX))
