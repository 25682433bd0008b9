"""What permissions allow, how fast a change takes effect, and what a check costs."""

from __future__ import annotations

import uuid

import httpx

from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, refresh, sign_up
from tests.rbac.helpers import (
    Token,
    assign,
    denied,
    group_id,
    member_of,
    new_group,
    session_headers,
)


async def _post(client: httpx.AsyncClient, api: str, author: SignedIn) -> str:
    response = await client.post(f"{api}/posts", json={"content": "hello"}, headers=author.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_moderator_edits_others_posts_but_cannot_clear_the_cache(
    client: httpx.AsyncClient, api: str, stores: Stores, user: SignedIn
) -> None:
    moderator = await member_of(client, api, stores, "moderator")
    for headers in (moderator.headers, session_headers(moderator)):
        post = await _post(client, api, user)
        edited = await client.patch(
            f"{api}/posts/{post}", json={"content": "[moderated]"}, headers=headers
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["content"] == "[moderated]"
        assert (await client.delete(f"{api}/posts/{post}", headers=headers)).status_code == 204
        denied(await client.post(f"{api}/cache/clear", headers=headers), "cache.clear")
        denied(await client.get(f"{api}/cache/status", headers=headers), "cache.read")

    post = await _post(client, api, moderator)
    denied(
        await client.patch(f"{api}/posts/{post}", json={"content": "x"}, headers=user.headers),
        "posts.moderate",
    )


async def test_each_system_group_reaches_its_routes(
    client: httpx.AsyncClient, api: str, stores: Stores, user: SignedIn
) -> None:
    manager = await member_of(client, api, stores, "shop_manager")
    support = await member_of(client, api, stores, "support")
    admin = await member_of(client, api, stores, "admin")
    stats = f"{api}/stats/customer/nobody-{uuid.uuid4().hex}"
    assert (await client.get(stats, headers=manager.headers)).status_code == 404  # allowed
    denied(await client.get(stats, headers=support.headers), "shop.stats_read")
    session_url = f"{api}/session/{user.id}"
    assert (await client.get(session_url, headers=support.headers)).status_code == 200
    denied(await client.get(session_url, headers=manager.headers), "sessions.manage_any")
    assert (await client.get(f"{api}/cache/status", headers=admin.headers)).status_code == 200
    activity = await client.get(
        f"{api}/activity", params={"user_id": str(user.id)}, headers=support.headers
    )
    assert activity.status_code == 200, activity.text
    denied(
        await client.get(
            f"{api}/activity", params={"user_id": str(user.id)}, headers=manager.headers
        ),
        "events.activity_read_any",
    )


async def test_removing_a_permission_takes_effect_on_the_next_request_of_an_old_token(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, user: SignedIn
) -> None:
    group = await new_group(client, api, superuser, "posts.moderate")
    member = await sign_up(client, api)
    assert (await assign(client, api, superuser, member.id, group["id"])).status_code == 200
    tokens = (await refresh(client, api, member.tokens["refresh_token"])).json()
    old_session, old_access = bearer(tokens["session_token"]), bearer(tokens["access_token"])
    post = await _post(client, api, user)
    url = f"{api}/posts/{post}"
    for headers in (old_session, old_access):
        assert (await client.patch(url, json={"content": "a"}, headers=headers)).status_code == 200

    moderate = next(
        p
        for p in (
            await client.get(f"{api}/groups/{group['id']}", headers=superuser.headers)
        ).json()["permissions"]
    )
    removed = await client.delete(
        f"{api}/groups/{group['id']}/permissions/{moderate['id']}", headers=superuser.headers
    )
    assert removed.status_code == 204

    for headers in (old_session, old_access):  # refused at once, not at expiry
        stale = await client.patch(url, json={"content": "b"}, headers=headers)
        assert (stale.status_code, stale.json()["error"]) == (401, "invalid_token")
    renewed = await refresh(client, api, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    for token in (renewed.json()["session_token"], renewed.json()["access_token"]):
        denied(
            await client.patch(url, json={"content": "c"}, headers=bearer(token)),
            "posts.moderate",
        )


async def test_joining_a_group_bumps_the_version_and_refresh_brings_the_new_set(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, user: SignedIn
) -> None:
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 200
    moderator = await group_id(client, api, superuser, "moderator")
    assert (await assign(client, api, superuser, user.id, moderator)).status_code == 200
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 401
    renewed = (await refresh(client, api, user.tokens["refresh_token"])).json()
    mine = await client.get(f"{api}/users/me/permissions", headers=bearer(renewed["session_token"]))
    assert {p["codename"] for p in mine.json()["permissions"]} == {"posts.moderate", "users.read"}


async def test_deactivating_a_group_withdraws_its_permissions(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    group = await new_group(client, api, superuser, "cache.read")
    member = await sign_up(client, api)
    await assign(client, api, superuser, member.id, group["id"])
    tokens = (await refresh(client, api, member.tokens["refresh_token"])).json()
    assert (
        await client.get(f"{api}/cache/status", headers=bearer(tokens["access_token"]))
    ).status_code == 200
    off = await client.put(
        f"{api}/groups/{group['id']}", json={"is_active": False}, headers=superuser.headers
    )
    assert off.status_code == 200
    assert (
        await client.get(f"{api}/cache/status", headers=bearer(tokens["access_token"]))
    ).status_code == 401
    renewed = (await refresh(client, api, tokens["refresh_token"])).json()
    denied(
        await client.get(f"{api}/cache/status", headers=bearer(renewed["access_token"])),
        "cache.read",
    )


async def test_a_permission_check_costs_no_postgresql_query(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    admin = await member_of(client, api, stores, "admin")
    for headers in (admin.headers, session_headers(admin)):
        before = _postgres_statements(stores)
        response = await client.get(f"{api}/cache/status", headers=headers)
        assert response.status_code == 200
        assert _postgres_statements(stores) == before


def _postgres_statements(stores: Stores) -> int:
    return sum(int(s["count"]) for s in stores.query_stats()["postgres"]["statements"])


async def test_an_access_token_whose_permissions_redis_lost_is_served_and_refilled(
    client: httpx.AsyncClient, api: str, stores: Stores, settings: Settings
) -> None:
    admin = await member_of(client, api, stores, "admin")
    pattern = f"{settings.REDIS_KEY_PREFIX}auth:perms:{{{admin.id}}}:*"
    keys = [k async for k in stores.redis.scan_iter(match=pattern)]
    assert len(keys) == 1
    await stores.redis.delete(*keys)
    assert (await client.get(f"{api}/cache/status", headers=admin.headers)).status_code == 200
    assert await stores.redis.exists(*keys) == 1


async def test_nobody_grants_what_they_do_not_hold(
    client: httpx.AsyncClient, api: str, stores: Stores, superuser: SignedIn, user: SignedIn
) -> None:
    assigner_group = await new_group(
        client, api, superuser, "rbac.assign", "rbac.read", "rbac.manage"
    )
    assigner = await sign_up(client, api)
    await assign(client, api, superuser, assigner.id, assigner_group["id"])
    tokens = (await refresh(client, api, assigner.tokens["refresh_token"])).json()
    caller = Token(tokens["access_token"])
    headers = caller.headers
    admin_group = await group_id(client, api, superuser, "admin")
    denied(await assign(client, api, caller, assigner.id, admin_group), "cache.clear")
    user_group = await group_id(client, api, superuser, "user")
    assert (await assign(client, api, caller, user.id, user_group)).status_code == 200
    own = await new_group(client, api, caller)
    cache = next(
        p["id"]
        for p in (
            await client.get(f"{api}/permissions", params={"category": "cache"}, headers=headers)
        ).json()["items"]
        if p["codename"] == "cache.clear"
    )
    denied(
        await client.post(
            f"{api}/groups/{own['id']}/permissions",
            json={"permission_ids": [cache]},
            headers=headers,
        ),
        "cache.clear",
    )


async def test_a_new_account_joins_the_user_group(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    mine = await client.get(f"{api}/users/me/groups", headers=user.headers)
    assert mine.status_code == 200
    assert [m["group"]["codename"] for m in mine.json()] == ["user"]
    assert mine.json()[0]["assigned_by"] is None
    permissions = await client.get(f"{api}/users/me/permissions", headers=user.headers)
    assert permissions.json() == {"user_id": str(user.id), "is_superuser": False, "permissions": []}


async def test_a_superuser_holds_every_permission(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    mine = await client.get(f"{api}/users/me/permissions", headers=superuser.headers)
    body = mine.json()
    assert body["is_superuser"] is True
    listed = await client.get(
        f"{api}/permissions", params={"limit": 100}, headers=superuser.headers
    )
    assert {p["codename"] for p in body["permissions"]} == {
        p["codename"] for p in listed.json()["items"]
    }


async def test_a_version_left_ahead_in_redis_costs_one_refresh_and_postgresql_catches_up(
    client: httpx.AsyncClient,
    api: str,
    stores: Stores,
    settings: Settings,
    superuser: SignedIn,
    user: SignedIn,
) -> None:
    """What a change that raised Redis and then rolled back leaves: tokens refused until the
    next refresh, which mints at Redis's version and raises PostgreSQL to it, so the next real
    change still goes past every token."""
    await stores.redis.set(f"{settings.REDIS_KEY_PREFIX}auth:authz:{{{user.id}}}", "5")
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 401
    renewed = (await refresh(client, api, user.tokens["refresh_token"])).json()
    assert (
        await client.get(f"{api}/auth/me", headers=bearer(renewed["access_token"]))
    ).status_code == 200

    moderator = await group_id(client, api, superuser, "moderator")
    assert (await assign(client, api, superuser, user.id, moderator)).status_code == 200
    for token in (renewed["access_token"], renewed["session_token"]):
        assert (await client.get(f"{api}/auth/me", headers=bearer(token))).status_code == 401
    assert await stores.redis.get(f"{settings.REDIS_KEY_PREFIX}auth:authz:{{{user.id}}}") == "6"
