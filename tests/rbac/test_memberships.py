"""Users and their groups: no IDOR, idempotent concurrent assignment, no orphan rows."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, refresh, sign_up, sign_up_superuser
from tests.rbac.helpers import assign, group_exists, group_id, member_of, membership_rows, new_group
from tests.responses import without_request_id

NOT_FOUND = {"error": "not_found", "detail": "User not found"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users/{id}", None),
        ("PUT", "/users/{id}", {"full_name": "Mallory"}),
        ("DELETE", "/users/{id}", None),
        ("GET", "/users/{id}/groups", None),
        ("GET", "/users/{id}/permissions", None),
    ],
)
async def test_no_idor_on_user_routes(
    client: httpx.AsyncClient,
    api: str,
    user: SignedIn,
    other: SignedIn,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    """Another user's id answers exactly like an id nobody has."""
    answers = []
    for target in (other.id, uuid.uuid4()):
        response = await client.request(
            method, f"{api}{path.format(id=target)}", json=body, headers=user.headers
        )
        answers.append((response.status_code, without_request_id(response.json())))
    assert answers == [(404, NOT_FOUND), (404, NOT_FOUND)]
    profile = await client.get(f"{api}/users/{other.id}", headers=other.headers)
    assert profile.json()["full_name"] == "Test User"  # untouched


async def test_assigning_needs_rbac_assign(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn, stores: Stores
) -> None:
    response = await client.post(
        f"{api}/users/{other.id}/groups",
        json={"group_ids": [str(uuid.uuid4())]},
        headers=user.headers,
    )
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    removal = await client.delete(
        f"{api}/users/{other.id}/groups/{uuid.uuid4()}", headers=user.headers
    )
    assert removal.status_code == 403
    support = await member_of(client, api, stores, "support")  # rbac.read: sees groups
    seen = await client.get(f"{api}/users/{other.id}/groups", headers=support.headers)
    assert [m["group"]["codename"] for m in seen.json()] == ["user"]


async def test_assignment_and_removal(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, user: SignedIn
) -> None:
    moderator = await group_id(client, api, superuser, "moderator")
    added = await assign(client, api, superuser, user.id, moderator)
    assert added.status_code == 200, added.text
    by_codename = {m["group"]["codename"]: m for m in added.json()}
    assert set(by_codename) == {"moderator", "user"}
    assert by_codename["moderator"]["assigned_by"] == str(superuser.id)
    unknown = await assign(client, api, superuser, user.id, str(uuid.uuid4()))
    assert unknown.status_code == 422
    nobody = await assign(client, api, superuser, uuid.uuid4(), moderator)
    assert without_request_id(nobody.json()) == NOT_FOUND
    url = f"{api}/users/{user.id}/groups/{moderator}"
    assert (await client.delete(url, headers=superuser.headers)).status_code == 204
    assert (await client.delete(url, headers=superuser.headers)).status_code == 404
    extra = await client.post(
        f"{api}/users/{user.id}/groups",
        json={"group_ids": [moderator], "role": "admin"},
        headers=superuser.headers,
    )
    assert extra.status_code == 422


async def test_concurrent_assignment_of_the_same_group_is_idempotent(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    """Committed for real: twelve racing requests, one row, one version bump."""
    admin = await sign_up_superuser(raw_client, api, stores)
    target = await sign_up(raw_client, api)
    group = await new_group(raw_client, api, admin, "posts.moderate")
    answers = await asyncio.gather(
        *(assign(raw_client, api, admin, target.id, group["id"]) for _ in range(12))
    )
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers]
    async with stores.sessionmaker() as session:
        assert await membership_rows(session, group["id"]) == 1
        version = await session.scalar(
            text("SELECT authz_version FROM users WHERE id = :id"),
            {"id": target.id},
        )
    assert version == 1


async def test_deleting_a_group_leaves_no_membership_rows(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, db: AsyncSession
) -> None:
    group = await new_group(client, api, superuser, "cache.read")
    tokens = []
    for _ in range(2):
        member = await sign_up(client, api)
        assert (await assign(client, api, superuser, member.id, group["id"])).status_code == 200
        renewed = await refresh(client, api, member.tokens["refresh_token"])
        tokens.append(bearer(renewed.json()["access_token"]))
    assert await membership_rows(db, group["id"]) == 2
    for headers in tokens:
        assert (await client.get(f"{api}/cache/status", headers=headers)).status_code == 200
    deleted = await client.delete(f"{api}/groups/{group['id']}", headers=superuser.headers)
    assert deleted.status_code == 204
    assert await membership_rows(db, group["id"]) == 0
    assert not await group_exists(db, group["id"])
    for headers in tokens:  # what it granted is gone at once
        assert (await client.get(f"{api}/cache/status", headers=headers)).status_code == 401
