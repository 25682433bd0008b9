"""Deactivating and deleting one's own account, confirmed by password or by a code's proof."""

from __future__ import annotations

import httpx

from quartet.stores.registry import Stores
from tests.accounts import bearer, login, refresh, sign_up, unique
from tests.erasure.helpers import account_with_traces, assert_no_leftovers, assert_redis_has_traces
from tests.rbac.helpers import member_of
from tests.verification.codes import emailed_proof


async def test_deactivation_ends_every_session_and_login_says_why(
    client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await sign_up(client, api)
    second = await login(client, api, account)
    wrong = await client.post(
        f"{api}/settings/deactivate-account",
        json={"password": "not-my-password"},
        headers=account.headers,
    )
    assert (wrong.status_code, wrong.json()["error"]) == (403, "confirmation_failed")
    done = await client.post(
        f"{api}/settings/deactivate-account",
        json={"password": account.password},
        headers=account.headers,
    )
    assert done.status_code == 200, done.text
    assert (done.json()["is_active"], done.json()["status"]) == (False, "inactive")
    for token in (account.tokens["access_token"], second["access_token"]):
        assert (await client.get(f"{api}/auth/me", headers=bearer(token))).status_code == 401
    assert (await refresh(client, api, second["refresh_token"])).status_code == 401
    refused = await client.post(
        f"{api}/auth/login", json={"email": account.email, "password": account.password}
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "account_deactivated")
    stranger = await client.post(
        f"{api}/auth/login", json={"email": account.email, "password": "a-wrong-guess-9"}
    )
    assert (stranger.status_code, stranger.json()["error"]) == (401, "invalid_credentials")

    admin = await member_of(client, api, stores, "admin")
    restored = await client.put(
        f"{api}/users/{account.id}",
        json={"is_active": True, "status": "active"},
        headers=admin.headers,
    )
    assert restored.status_code == 200, restored.text
    assert "access_token" in await login(client, api, account)


async def test_confirmation_is_one_of_password_or_proof(
    client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(client, api)
    for body in ({}, {"password": "x", "proof": "p" * 20}, {"password": "x", "extra": 1}):
        response = await client.post(
            f"{api}/settings/delete-account", json=body, headers=account.headers
        )
        assert response.status_code == 422, body
    proof_instead = await client.post(
        f"{api}/settings/delete-account", json={"proof": "p" * 20}, headers=account.headers
    )
    assert proof_instead.json()["error"] == "confirmation_failed"  # it has a password


async def test_deleting_an_account_leaves_nothing_in_any_store(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    traces = await account_with_traces(raw_client, api, stores)
    account = traces.account
    await assert_redis_has_traces(stores, account)
    deleted = await raw_client.post(
        f"{api}/settings/delete-account",
        json={"password": account.password},
        headers=account.headers,
    )
    assert deleted.status_code == 202, deleted.text
    body = deleted.json()
    assert (body["pending"], body["user_id"]) == ([], None)
    assert body["done"] == ["postgres", "redis", "mongodb", "cassandra"]
    await assert_no_leftovers(stores, traces, body["id"])
    gone = await raw_client.get(f"{api}/settings", headers=account.headers)
    assert gone.status_code == 401
    relogin = await raw_client.post(
        f"{api}/auth/login", json={"email": account.email, "password": account.password}
    )
    assert relogin.status_code == 401
    again = await sign_up(raw_client, api, email=account.email, username=account.username)
    assert again.id != account.id


async def test_an_account_without_password_confirms_with_a_code(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    email = f"{unique()}@example.com"
    proof = await emailed_proof(raw_client, api, email, "signup")
    created = await raw_client.post(f"{api}/auth/verify", json={"proof": proof})
    assert created.status_code == 201, created.text
    headers = bearer(created.json()["access_token"])
    refused = await raw_client.post(
        f"{api}/settings/delete-account", json={"password": "anything-1"}, headers=headers
    )
    assert refused.json()["error"] == "confirmation_failed"
    confirm = await emailed_proof(
        raw_client, api, email, "verify_contact", mails_before=1, headers=headers
    )
    deleted = await raw_client.post(
        f"{api}/settings/delete-account", json={"proof": confirm}, headers=headers
    )
    assert deleted.status_code == 202, deleted.text
    assert deleted.json()["pending"] == []
