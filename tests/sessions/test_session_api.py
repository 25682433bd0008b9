"""/session/{user_id}: the seed's create / read / refresh / delete, and who may call them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

import httpx
import pytest

from quartet.sessions.repository import FIELDS
from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, login
from tests.responses import without_request_id

TTL = 1800


def session_key(settings: Settings, user_id: uuid.UUID) -> str:
    return f"{settings.REDIS_KEY_PREFIX}session:{{{user_id}}}"


async def stored_hash(stores: Stores, key: str) -> dict[str, str]:
    """The session hash as Redis holds it: the app's client decodes responses
    (`decode_responses=True` in `quartet.stores.redis`), so names and values are str."""
    return cast(dict[str, str], await stores.redis.hgetall(key))


async def stored_field(stores: Stores, key: str, field: str) -> str | None:
    """One field of the session hash (decoded, like `stored_hash`), None when absent."""
    return cast(str | None, await stores.redis.hget(key, field))


def when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value  # timezone-aware UTC
    return parsed


async def test_login_starts_a_session_in_a_hash_with_a_30_minute_ttl(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    response = await client.get(f"{api}/session/{user.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user_id", "session_token", "login_time", "last_active", "ttl_seconds"}
    assert body["user_id"] == str(user.id)
    assert len(body["session_token"]) >= 43  # 256 bits, URL-safe base64
    assert set(body["session_token"]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert when(body["login_time"]) <= when(body["last_active"])
    assert TTL - 5 <= body["ttl_seconds"] <= TTL

    key = session_key(settings, user.id)
    assert await stores.redis.type(key) == "hash"
    stored = await stored_hash(stores, key)
    assert set(FIELDS) <= set(stored)
    assert stored["user_id"] == str(user.id)
    assert stored["session_token"] == body["session_token"]
    assert when(stored["login_time"]) == when(body["login_time"])
    assert when(stored["last_active"]) == when(body["last_active"])
    assert f"sid:{user.tokens['session_id']}" in stored  # the login's auth session joined it
    assert TTL - 5 <= await stores.redis.ttl(key) <= TTL


async def test_a_second_login_refreshes_the_live_session_and_keeps_its_identity(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    before = (await client.get(f"{api}/session/{user.id}", headers=user.headers)).json()
    await stores.redis.expire(session_key(settings, user.id), 60)
    second = await login(client, api, user)  # asserts the 200
    after = (await client.get(f"{api}/session/{user.id}", headers=user.headers)).json()
    assert after["session_token"] == before["session_token"]
    assert after["login_time"] == before["login_time"]
    assert when(after["last_active"]) > when(before["last_active"])
    assert after["ttl_seconds"] >= TTL - 5
    stored = await stored_hash(stores, session_key(settings, user.id))
    assert {f"sid:{user.tokens['session_id']}", f"sid:{second['session_id']}"} <= set(stored)


async def test_every_authenticated_request_touches_last_active_and_the_ttl(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    key = session_key(settings, user.id)
    await stores.redis.expire(key, 100)
    last_active = await stored_field(stores, key, "last_active")
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 200
    assert await stores.redis.ttl(key) >= TTL - 5
    touched = await stored_field(stores, key, "last_active")
    assert last_active is not None
    assert touched is not None
    assert when(touched) > when(last_active)


async def test_put_refreshes_last_active_and_resets_the_ttl(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    key = session_key(settings, user.id)
    before = await stored_hash(stores, key)
    await stores.redis.expire(key, 42)
    response = await client.put(f"{api}/session/{user.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ttl_seconds"] == TTL
    assert body["session_token"] == before["session_token"]
    assert when(body["login_time"]) == when(before["login_time"])
    assert when(body["last_active"]) > when(before["last_active"])
    assert await stores.redis.ttl(key) >= TTL - 5


async def test_delete_then_get_and_put_are_404_and_a_touch_never_recreates_it(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    url = f"{api}/session/{user.id}"
    assert (await client.delete(url, headers=user.headers)).status_code == 204
    assert (await client.delete(url, headers=user.headers)).status_code == 204  # idempotent
    for method in ("GET", "PUT"):
        response = await client.request(method, url, headers=user.headers)
        assert response.status_code == 404, response.text
        assert without_request_id(response.json()) == {
            "error": "session_not_found",
            "detail": "No active session for this user (absent or expired)",
        }
    # tokens outlive the activity session by default, and using them does not bring it back
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 200
    assert await stores.redis.exists(session_key(settings, user.id)) == 0


async def test_post_creates_a_fresh_session_only_when_none_is_live(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores, settings: Settings
) -> None:
    url = f"{api}/session/{user.id}"
    old = (await client.get(url, headers=user.headers)).json()
    conflict = await client.post(url, headers=user.headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "session_exists"

    await client.delete(url, headers=user.headers)
    created = await client.post(url, headers=user.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["session_token"] != old["session_token"]
    assert body["login_time"] == body["last_active"]
    assert body["ttl_seconds"] == TTL
    assert (await client.get(url, headers=user.headers)).json()["session_token"] == (
        body["session_token"]
    )
    stored = await stored_hash(stores, session_key(settings, user.id))
    assert f"sid:{user.tokens['session_id']}" in stored  # the caller's auth session joined


async def test_only_the_user_or_a_holder_of_sessions_manage_any_may_use_a_session(
    client: httpx.AsyncClient,
    api: str,
    user: SignedIn,
    other: SignedIn,
    superuser: SignedIn,
    stores: Stores,
    settings: Settings,
) -> None:
    url = f"{api}/session/{user.id}"
    before = await stored_hash(stores, session_key(settings, user.id))
    for method in ("POST", "GET", "PUT", "DELETE"):
        response = await client.request(method, url, headers=other.headers)
        assert response.status_code == 403, (method, response.text)
        assert response.json()["detail"] == "Requires the permission sessions.manage_any"
        unauthenticated = await client.request(method, url)
        assert unauthenticated.status_code == 401, (method, unauthenticated.text)
    assert await stored_hash(stores, session_key(settings, user.id)) == before

    seen = await client.get(url, headers=superuser.headers)
    assert seen.status_code == 200
    assert seen.json()["session_token"] == before["session_token"]
    assert (await client.put(url, headers=superuser.headers)).status_code == 200
    assert (await client.delete(url, headers=superuser.headers)).status_code == 204
    created = await client.post(url, headers=superuser.headers)
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == str(user.id)
    stored = await stored_hash(stores, session_key(settings, user.id))
    assert not [name for name in stored if name.startswith("sid:")]  # nobody's auth session


async def test_a_session_for_an_unknown_user_is_404(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, stores: Stores, settings: Settings
) -> None:
    ghost = uuid.uuid4()
    response = await client.post(f"{api}/session/{ghost}", headers=superuser.headers)
    assert response.status_code == 404
    assert response.json()["error"] == "user_not_found"
    assert await stores.redis.exists(session_key(settings, ghost)) == 0


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
async def test_a_malformed_user_id_is_422(
    client: httpx.AsyncClient, api: str, user: SignedIn, bad_id: str
) -> None:
    for method in ("POST", "GET", "PUT", "DELETE"):
        response = await client.request(method, f"{api}/session/{bad_id}", headers=user.headers)
        assert response.status_code == 422, (method, response.text)
        assert response.json()["error"] == "validation_error"
