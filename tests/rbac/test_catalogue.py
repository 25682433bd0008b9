"""Permissions and groups: CRUD, validation, pagination, and what the code protects (declared
permissions, system groups)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.rbac.registry import SYSTEM_GROUPS, declared_permissions
from quartet.rbac.seed import seed_rbac
from quartet.settings import Settings
from tests.accounts import SignedIn
from tests.rbac.helpers import denied, group_id, new_group, permission_id
from tests.responses import without_request_id


async def test_permission_crud(client: httpx.AsyncClient, api: str, superuser: SignedIn) -> None:
    codename = f"reports.export_{uuid.uuid4().hex[:8]}"
    created = await client.post(
        f"{api}/permissions",
        json={"codename": codename, "name": "Export reports", "description": "CSV exports"},
        headers=superuser.headers,
    )
    assert created.status_code == 201, created.text
    permission = created.json()
    assert (permission["codename"], permission["category"]) == (codename, "reports")
    url = f"{api}/permissions/{permission['id']}"

    again = await client.post(
        f"{api}/permissions", json={"codename": codename, "name": "x"}, headers=superuser.headers
    )
    assert (again.status_code, again.json()["error"]) == (409, "codename_taken")

    read = await client.get(url, headers=superuser.headers)
    assert read.status_code == 200
    assert read.json() == permission

    renamed = f"{codename}_v2"
    updated = await client.put(
        url, json={"codename": renamed, "category": "exports"}, headers=superuser.headers
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["codename"], updated.json()["category"]) == (renamed, "exports")
    assert updated.json()["name"] == "Export reports"

    assert (await client.delete(url, headers=superuser.headers)).status_code == 204
    gone = await client.get(url, headers=superuser.headers)
    assert (gone.status_code, gone.json()["error"]) == (404, "not_found")
    assert (await client.delete(url, headers=superuser.headers)).status_code == 404


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"codename": "NoDots", "name": "x"}, ["body", "codename"]),
        ({"codename": "posts.", "name": "x"}, ["body", "codename"]),
        ({"codename": "a.b", "name": ""}, ["body", "name"]),
        ({"codename": "a.b", "name": "x" * 151}, ["body", "name"]),
        ({"codename": "a." + "b" * 100, "name": "x"}, ["body", "codename"]),
        ({"codename": "a.b", "name": "x", "category": "Bad Category"}, ["body", "category"]),
        ({"codename": "a.b", "name": "x", "is_system": True}, ["body", "is_system"]),
    ],
)
async def test_permission_input_is_validated(
    client: httpx.AsyncClient,
    api: str,
    superuser: SignedIn,
    body: dict[str, object],
    where: list[str],
) -> None:
    response = await client.post(f"{api}/permissions", json=body, headers=superuser.headers)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == where


async def test_an_empty_update_is_refused(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    pid = await permission_id(client, api, superuser, "posts.moderate")
    response = await client.put(f"{api}/permissions/{pid}", json={}, headers=superuser.headers)
    assert response.status_code == 422


async def test_a_permission_the_code_checks_cannot_be_deleted_or_renamed(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    url = f"{api}/permissions/{await permission_id(client, api, superuser, 'posts.moderate')}"
    for response in (
        await client.delete(url, headers=superuser.headers),
        await client.put(url, json={"codename": "posts.moderate2"}, headers=superuser.headers),
    ):
        assert (response.status_code, response.json()["error"]) == (409, "declared_permission")
    described = await client.put(url, json={"description": "Moderators"}, headers=superuser.headers)
    assert described.status_code == 200
    assert described.json()["description"] == "Moderators"


async def test_permissions_are_filtered_by_category_and_paginated(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"category": "shop", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(f"{api}/permissions", params=params, headers=superuser.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [p["codename"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    shop = sorted(p.codename for p in declared_permissions() if p.category == "shop")
    assert sorted(seen) == shop
    bad = await client.get(
        f"{api}/permissions", params={"cursor": "%%%"}, headers=superuser.headers
    )
    assert bad.status_code == 422


async def test_reading_and_managing_the_catalogue_needs_permissions(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    some = uuid.uuid4()
    denied(await client.get(f"{api}/permissions", headers=user.headers), "rbac.read")
    denied(await client.get(f"{api}/groups/{some}", headers=user.headers), "rbac.read")
    denied(
        await client.post(
            f"{api}/permissions", json={"codename": "a.b", "name": "x"}, headers=user.headers
        ),
        "rbac.manage",
    )
    denied(await client.delete(f"{api}/groups/{some}", headers=user.headers), "rbac.manage")
    assert (await client.get(f"{api}/permissions")).status_code == 401


async def test_group_crud_and_grants(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    group = await new_group(client, api, superuser)
    url = f"{api}/groups/{group['id']}"
    assert (group["is_system"], group["is_active"]) == (False, True)

    moderate = await permission_id(client, api, superuser, "posts.moderate")
    read = await permission_id(client, api, superuser, "users.read")
    for _ in range(2):  # adding is idempotent
        granted = await client.post(
            f"{url}/permissions",
            json={"permission_ids": [moderate, read]},
            headers=superuser.headers,
        )
        assert granted.status_code == 200, granted.text
        assert [p["codename"] for p in granted.json()["permissions"]] == [
            "posts.moderate",
            "users.read",
        ]
    detail = await client.get(url, headers=superuser.headers)
    assert detail.json()["member_count"] == 0
    assert len(detail.json()["permissions"]) == 2

    unknown = await client.post(
        f"{url}/permissions",
        json={"permission_ids": [str(uuid.uuid4())]},
        headers=superuser.headers,
    )
    assert unknown.status_code == 422
    empty = await client.post(
        f"{url}/permissions", json={"permission_ids": []}, headers=superuser.headers
    )
    assert empty.status_code == 422

    removed = await client.delete(f"{url}/permissions/{moderate}", headers=superuser.headers)
    assert removed.status_code == 204
    again = await client.delete(f"{url}/permissions/{moderate}", headers=superuser.headers)
    assert again.status_code == 404

    updated = await client.put(
        url, json={"name": "Renamed", "is_active": False}, headers=superuser.headers
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["is_active"]) == ("Renamed", False)
    taken = await client.put(url, json={"codename": "admin"}, headers=superuser.headers)
    assert (taken.status_code, taken.json()["error"]) == (409, "codename_taken")

    assert (await client.delete(url, headers=superuser.headers)).status_code == 204
    assert (await client.get(url, headers=superuser.headers)).status_code == 404


async def test_groups_are_paginated(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    first = await client.get(f"{api}/groups", params={"limit": 2}, headers=superuser.headers)
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2
    rest = await client.get(
        f"{api}/groups",
        params={"limit": 100, "cursor": first.json()["next_cursor"]},
        headers=superuser.headers,
    )
    codenames = {g["codename"] for g in first.json()["items"] + rest.json()["items"]}
    assert {s.codename for s in SYSTEM_GROUPS} <= codenames


async def test_system_groups_cannot_be_deleted_or_lose_their_codename(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    for system in SYSTEM_GROUPS:
        url = f"{api}/groups/{await group_id(client, api, superuser, system.codename)}"
        deleted = await client.delete(url, headers=superuser.headers)
        assert (deleted.status_code, deleted.json()["error"]) == (409, "system_group")
        renamed = await client.put(
            url, json={"codename": "x_" + system.codename}, headers=superuser.headers
        )
        assert (renamed.status_code, renamed.json()["error"]) == (409, "system_group")
        same = await client.put(
            url, json={"codename": system.codename, "name": system.name}, headers=superuser.headers
        )
        assert same.status_code == 200
        assert same.json()["is_system"] is True


async def test_error_bodies_name_what_failed(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    response = await client.get(f"{api}/groups/{uuid.uuid4()}", headers=superuser.headers)
    assert without_request_id(response.json()) == {
        "error": "not_found",
        "detail": "Group not found",
    }


async def test_the_seed_is_idempotent_and_grants_defaults(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    """The run's database was seeded at start; seeding again changes nothing."""
    summary = await seed_rbac(db, settings)
    assert summary.startswith("rbac: 0 groups created, 0 permissions added, 0 default grants")
    admin = await client.get(
        f"{api}/groups/{await group_id(client, api, superuser, 'admin')}", headers=superuser.headers
    )
    assert {p["codename"] for p in admin.json()["permissions"]} == {
        p.codename for p in declared_permissions()
    }
    moderator = await client.get(
        f"{api}/groups/{await group_id(client, api, superuser, 'moderator')}",
        headers=superuser.headers,
    )
    assert {p["codename"] for p in moderator.json()["permissions"]} == {
        "posts.moderate",
        "users.read",
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"codename": "Has Spaces", "name": "x"}, ["body", "codename"]),
        ({"codename": "a", "name": "x"}, ["body", "codename"]),
        ({"codename": "ok_group", "name": ""}, ["body", "name"]),
        ({"codename": "ok_group", "name": "x", "description": "d" * 501}, ["body", "description"]),
        ({"codename": "ok_group", "name": "x", "is_system": True}, ["body", "is_system"]),
    ],
)
async def test_group_input_is_validated(
    client: httpx.AsyncClient,
    api: str,
    superuser: SignedIn,
    body: dict[str, object],
    where: list[str],
) -> None:
    response = await client.post(f"{api}/groups", json=body, headers=superuser.headers)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == where
