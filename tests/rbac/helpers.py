"""Accounts in groups, and reading RBAC state, for the RBAC and user administration tests."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.rbac.models import Group, UserGroup
from quartet.rbac.repository import MembershipRepository
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, login, register


class Caller(Protocol):
    @property
    def headers(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Token:
    """A caller known only by one bearer token."""

    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def join(stores: Stores, user_id: uuid.UUID, *groups: str) -> None:
    """Put the user in the groups named (through `stores`: committed, or rolled back with the
    test's `db`)."""

    async def work(session: AsyncSession) -> None:
        for codename in groups:
            await MembershipRepository(session).add_by_codename(user_id, codename)

    await stores.transactions.run(work)


async def member_of(
    http: httpx.AsyncClient, api: str, stores: Stores, *groups: str, **overrides: Any
) -> SignedIn:
    """A new account in `groups`, logged in afterwards (so its tokens carry their permissions)."""
    account = await register(http, api, **overrides)
    await join(stores, account.id, *groups)
    return SignedIn(**asdict(account), tokens=await login(http, api, account))


async def group_id(http: httpx.AsyncClient, api: str, admin: Caller, codename: str) -> str:
    response = await http.get(f"{api}/groups", params={"limit": 100}, headers=admin.headers)
    assert response.status_code == 200, response.text
    found = [g["id"] for g in response.json()["items"] if g["codename"] == codename]
    assert found, codename
    return str(found[0])


async def permission_id(http: httpx.AsyncClient, api: str, admin: Caller, codename: str) -> str:
    category = codename.split(".", 1)[0]
    response = await http.get(
        f"{api}/permissions", params={"category": category, "limit": 100}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    found = [p["id"] for p in response.json()["items"] if p["codename"] == codename]
    assert found, codename
    return str(found[0])


async def new_group(
    http: httpx.AsyncClient, api: str, admin: Caller, *permissions: str
) -> dict[str, Any]:
    """A custom group granted `permissions` (by codename)."""
    codename = f"g_{uuid.uuid4().hex[:12]}"
    created = await http.post(
        f"{api}/groups", json={"codename": codename, "name": codename}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    group: dict[str, Any] = created.json()
    if permissions:
        ids = [await permission_id(http, api, admin, p) for p in permissions]
        granted = await http.post(
            f"{api}/groups/{group['id']}/permissions",
            json={"permission_ids": ids},
            headers=admin.headers,
        )
        assert granted.status_code == 200, granted.text
    return group


async def assign(
    http: httpx.AsyncClient, api: str, admin: Caller, user_id: uuid.UUID, *group_ids: str
) -> httpx.Response:
    return await http.post(
        f"{api}/users/{user_id}/groups", json={"group_ids": list(group_ids)}, headers=admin.headers
    )


async def membership_rows(session: AsyncSession, group: str) -> int:
    statement = (
        select(func.count())
        .select_from(UserGroup)
        .where(col(UserGroup.group_id) == uuid.UUID(group))
    )
    return int(await session.scalar(statement) or 0)


async def group_exists(session: AsyncSession, group: str) -> bool:
    return await session.get(Group, uuid.UUID(group)) is not None


def session_headers(account: SignedIn) -> dict[str, str]:
    return bearer(account.tokens["session_token"])


def denied(response: httpx.Response, permission: str) -> None:
    """A 403 in the error format naming `permission`."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "permission_denied", body
    assert body["detail"] == f"Requires the permission {permission}", body
