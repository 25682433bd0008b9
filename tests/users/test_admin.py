"""/users: list and search (users.read), read, update and delete, by the user or an admin."""

from __future__ import annotations

import uuid

import httpx
import pytest

from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, refresh, sign_up, unique
from tests.rbac.helpers import denied, group_id, member_of


async def test_listing_users_needs_users_read(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    denied(await client.get(f"{api}/users/", headers=user.headers), "users.read")
    assert (await client.get(f"{api}/users/")).status_code == 401


async def test_search_filter_sort_and_paginate(
    client: httpx.AsyncClient, api: str, stores: Stores, superuser: SignedIn
) -> None:
    tag = unique("tag")
    accounts = [
        await sign_up(client, api, full_name=f"{tag} {name}") for name in ("Carol", "Alice", "Bob")
    ]
    support = await member_of(client, api, stores, "support")
    moderators = await group_id(client, api, superuser, "moderator")
    await client.post(
        f"{api}/users/{accounts[1].id}/groups",
        json={"group_ids": [moderators]},
        headers=superuser.headers,
    )
    await client.put(
        f"{api}/users/{accounts[2].id}", json={"status": "suspended"}, headers=superuser.headers
    )

    async def names(**params: str | int) -> tuple[list[str], int]:
        response = await client.get(
            f"{api}/users/", params={"search": tag, **params}, headers=support.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return [u["full_name"].split()[1] for u in body["items"]], body["total"]

    assert await names(sort="full_name", order="asc") == (["Alice", "Bob", "Carol"], 3)
    assert await names(sort="full_name", order="desc", limit=2) == (["Carol", "Bob"], 3)
    assert await names(sort="full_name", order="desc", limit=2, offset=2) == (["Alice"], 3)
    assert await names(status="suspended") == (["Bob"], 1)
    assert await names(group_id=moderators) == (["Alice"], 1)
    assert await names(is_active="false") == ([], 0)
    by_email = await client.get(
        f"{api}/users/", params={"search": accounts[0].email.upper()}, headers=support.headers
    )
    assert [u["id"] for u in by_email.json()["items"]] == [str(accounts[0].id)]
    wildcard = await client.get(f"{api}/users/", params={"search": "%"}, headers=support.headers)
    assert wildcard.json()["total"] == 0  # LIKE wildcards are matched literally


@pytest.mark.parametrize(
    "params",
    [{"sort": "hashed_password"}, {"limit": 0}, {"limit": 101}, {"offset": -1}, {"status": "x"}],
)
async def test_list_parameters_are_validated(
    client: httpx.AsyncClient, api: str, superuser: SignedIn, params: dict[str, str | int]
) -> None:
    response = await client.get(f"{api}/users/", params=params, headers=superuser.headers)
    assert response.status_code == 422


async def test_a_user_reads_and_edits_their_own_profile_only(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    url = f"{api}/users/{user.id}"
    assert (await client.get(url, headers=user.headers)).json()["email"] == user.email
    name = unique("n")
    updated = await client.put(
        url,
        json={
            "full_name": "New Name",
            "username": name,
            "timezone": "Europe/Paris",
            "country": None,
        },
        headers=user.headers,
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["full_name"], body["username"], body["timezone"]) == (
        "New Name",
        name,
        "Europe/Paris",
    )
    me = await client.get(f"{api}/auth/me", headers=user.headers)
    assert me.json()["full_name"] == "New Name"  # the profile cache was invalidated
    for field, value in (("is_active", False), ("status", "suspended"), ("email", "x@example.com")):
        denied(await client.put(url, json={field: value}, headers=user.headers), "users.update")
    superuser_flag = await client.put(url, json={"is_superuser": True}, headers=user.headers)
    assert (superuser_flag.status_code, superuser_flag.json()["error"]) == (403, "superuser_only")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"timezone": "Mars/Olympus"},
        {"language": "english"},
        {"country": "fr"},
        {"email": None},
        {"is_active": None},
        {"hashed_password": "x"},
        {"username": "no spaces allowed"},
    ],
)
async def test_update_input_is_validated(
    client: httpx.AsyncClient, api: str, user: SignedIn, body: dict[str, object]
) -> None:
    response = await client.put(f"{api}/users/{user.id}", json=body, headers=user.headers)
    assert response.status_code == 422, response.text


async def test_a_taken_identifier_is_a_conflict(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn
) -> None:
    response = await client.put(
        f"{api}/users/{user.id}", json={"username": other.username}, headers=user.headers
    )
    assert (response.status_code, response.json()["error"]) == (409, "identifier_taken")


async def test_an_admin_deactivates_a_user_whose_tokens_stop_at_once(
    client: httpx.AsyncClient, api: str, stores: Stores, user: SignedIn
) -> None:
    admin = await member_of(client, api, stores, "admin")
    url = f"{api}/users/{user.id}"
    read_only = await member_of(client, api, stores, "support")
    denied(
        await client.put(url, json={"is_active": False}, headers=read_only.headers), "users.update"
    )
    response = await client.put(
        url, json={"is_active": False, "status": "inactive"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["is_active"], response.json()["status"]) == (False, "inactive")
    for token in (user.tokens["access_token"], user.tokens["session_token"]):
        assert (await client.get(f"{api}/auth/me", headers=bearer(token))).status_code == 401
    assert (await refresh(client, api, user.tokens["refresh_token"])).status_code == 401


async def test_only_a_superuser_touches_a_superuser(
    client: httpx.AsyncClient, api: str, stores: Stores, superuser: SignedIn, user: SignedIn
) -> None:
    admin = await member_of(client, api, stores, "admin")
    url = f"{api}/users/{superuser.id}"
    for response in (
        await client.put(url, json={"full_name": "Hacked"}, headers=admin.headers),
        await client.delete(url, headers=admin.headers),
        await client.put(
            f"{api}/users/{user.id}", json={"is_superuser": True}, headers=admin.headers
        ),
    ):
        assert (response.status_code, response.json()["error"]) == (403, "superuser_only")
    promoted = await client.put(
        f"{api}/users/{user.id}", json={"is_superuser": True}, headers=superuser.headers
    )
    assert promoted.json()["is_superuser"] is True
    assert (await client.get(f"{api}/auth/me", headers=user.headers)).status_code == 401
    renewed = (await refresh(client, api, user.tokens["refresh_token"])).json()
    assert (
        await client.post(f"{api}/cache/clear", headers=bearer(renewed["access_token"]))
    ).status_code == 200


async def test_deleting_oneself_erases_and_ends_every_token(
    client: httpx.AsyncClient, api: str, superuser: SignedIn
) -> None:
    account = await sign_up(client, api)
    url = f"{api}/users/{account.id}"
    assert (await client.delete(url, headers=account.headers)).status_code == 204
    assert (await client.get(f"{api}/auth/me", headers=account.headers)).status_code == 401
    assert (await client.get(url, headers=superuser.headers)).status_code == 404
    relogin = await client.post(
        f"{api}/auth/login", json={"email": account.email, "password": account.password}
    )
    assert relogin.status_code == 401
    assert (await client.delete(url, headers=superuser.headers)).status_code == 404
    again = await sign_up(client, api, email=account.email, username=account.username)
    assert again.id != account.id  # the identifiers are free again


async def test_deleting_another_user_needs_users_delete(
    client: httpx.AsyncClient, api: str, stores: Stores, user: SignedIn
) -> None:
    support = await member_of(client, api, stores, "support")
    denied(await client.delete(f"{api}/users/{user.id}", headers=support.headers), "users.delete")
    admin = await member_of(client, api, stores, "admin")
    assert (await client.delete(f"{api}/users/{user.id}", headers=admin.headers)).status_code == 204
    missing = await client.delete(f"{api}/users/{uuid.uuid4()}", headers=admin.headers)
    assert missing.status_code == 404
