"""Logout, logout everywhere, /me and the caller's sessions (listing and revoking one)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.registry import Stores
from tests.accounts import bearer, login, me, refresh, register
from tests.auth.flows import (
    INVALID_REFRESH,
    assert_tokens_alive,
    assert_tokens_dead,
    audit_trail,
    revoked_in_redis,
)
from tests.responses import without_request_id


async def _revoke_reasons(db: AsyncSession, *session_ids: str) -> list[str | None]:
    rows = await db.execute(
        text("SELECT id, revoke_reason FROM auth_sessions WHERE id = ANY(:ids)"),
        {"ids": [uuid.UUID(s) for s in session_ids]},
    )
    reasons = {str(row.id): row.revoke_reason for row in rows}
    return [reasons[s] for s in session_ids]


async def _assert_refresh_dead(http: httpx.AsyncClient, api: str, tokens: dict[str, Any]) -> None:
    response = await refresh(http, api, tokens["refresh_token"])
    assert response.status_code == 401
    assert without_request_id(response.json()) == INVALID_REFRESH


async def test_logout_ends_only_the_callers_session(
    client: httpx.AsyncClient, api: str, db: AsyncSession, stores: Stores
) -> None:
    account = await register(client, api)
    phone, laptop = await login(client, api, account), await login(client, api, account)

    response = await client.post(f"{api}/auth/logout", headers=bearer(phone["session_token"]))

    assert response.status_code == 204
    assert response.content == b""
    await assert_tokens_dead(client, api, phone)
    await _assert_refresh_dead(client, api, phone)
    await assert_tokens_alive(client, api, laptop)
    assert await _revoke_reasons(db, phone["session_id"], laptop["session_id"]) == [
        "logout",
        None,
    ]
    assert await revoked_in_redis(stores, account.id, phone["session_id"])
    assert not await revoked_in_redis(stores, account.id, laptop["session_id"])
    trail = await audit_trail(db, user_id=account.id)
    assert (trail[-1]["action"], trail[-1]["data"]) == (
        "auth.logout",
        {"sessions": [phone["session_id"]]},
    )


async def test_logout_everywhere_ends_every_session_of_the_user_only(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account, bystander = await register(client, api), await register(client, api)
    sessions = [await login(client, api, account) for _ in range(3)]
    theirs = await login(client, api, bystander)

    response = await client.post(
        f"{api}/auth/logout-everywhere", headers=bearer(sessions[0]["access_token"])
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 3}
    for tokens in sessions:
        await assert_tokens_dead(client, api, tokens)
        await _assert_refresh_dead(client, api, tokens)
    await assert_tokens_alive(client, api, theirs)
    ids = [s["session_id"] for s in sessions]
    assert await _revoke_reasons(db, *ids) == ["logout_everywhere"] * 3
    trail = await audit_trail(db, user_id=account.id)
    assert trail[-1]["action"] == "auth.logout_everywhere"
    assert sorted(trail[-1]["data"]["sessions"]) == sorted(ids)


async def test_me_shows_the_public_profile(client: httpx.AsyncClient, api: str) -> None:
    account = await register(client, api)
    tokens = await login(client, api, account)

    for headers in (
        bearer(tokens["access_token"]),
        bearer(tokens["session_token"]),
        {"X-Session-Token": tokens["session_token"]},
    ):
        response = await client.get(f"{api}/auth/me", headers=headers)
        assert response.status_code == 200, response.text
        profile = response.json()
        assert profile["id"] == str(account.id)
        assert (profile["email"], profile["username"]) == (account.email, account.username)
        assert profile["is_superuser"] is False
        assert "hashed_password" not in profile


async def test_me_exposes_is_superuser(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account = await register(client, api)
    await db.execute(
        text("UPDATE users SET is_superuser = true WHERE id = :id"), {"id": account.id}
    )
    tokens = await login(client, api, account)

    response = await me(client, api, tokens["access_token"])

    assert response.status_code == 200, response.text
    assert response.json()["is_superuser"] is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/me"),
        ("GET", "/auth/sessions"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/logout-everywhere"),
        ("DELETE", f"/auth/sessions/{uuid.uuid4()}"),
    ],
)
async def test_protected_routes_need_a_token(
    client: httpx.AsyncClient, api: str, method: str, path: str
) -> None:
    response = await client.request(method, f"{api}{path}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert without_request_id(response.json()) == {
        "error": "unauthorized",
        "detail": "Not authenticated",
    }


async def test_sessions_lists_the_callers_active_sessions_and_marks_the_current_one(
    client: httpx.AsyncClient, api: str
) -> None:
    account, other = await register(client, api), await register(client, api)
    older = await login(client, api, account, headers={"User-Agent": "phone/1"})
    ended = await login(client, api, account)
    current = await login(client, api, account, headers={"User-Agent": "laptop/2"})
    await login(client, api, other)
    assert (
        await client.post(f"{api}/auth/logout", headers=bearer(ended["access_token"]))
    ).is_success

    response = await client.get(f"{api}/auth/sessions", headers=bearer(current["access_token"]))

    assert response.status_code == 200, response.text
    listed = response.json()
    assert [s["id"] for s in listed] == [current["session_id"], older["session_id"]]  # newest first
    assert [s["current"] for s in listed] == [True, False]
    assert [s["user_agent"] for s in listed] == ["laptop/2", "phone/1"]
    assert all(s["ip"] == "127.0.0.1" for s in listed)
    assert set(listed[0]) == {
        "id",
        "created_at",
        "last_seen_at",
        "expires_at",
        "user_agent",
        "ip",
        "current",
    }


async def test_revoking_one_of_the_callers_sessions_kills_its_tokens(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account = await register(client, api)
    stolen, mine = await login(client, api, account), await login(client, api, account)

    response = await client.delete(
        f"{api}/auth/sessions/{stolen['session_id']}", headers=bearer(mine["access_token"])
    )

    assert response.status_code == 204
    await assert_tokens_dead(client, api, stolen)
    await _assert_refresh_dead(client, api, stolen)
    await assert_tokens_alive(client, api, mine)
    assert await _revoke_reasons(db, stolen["session_id"]) == ["revoked_by_user"]
    again = await client.delete(
        f"{api}/auth/sessions/{stolen['session_id']}", headers=bearer(mine["access_token"])
    )
    assert again.status_code == 404  # already revoked


async def test_revoking_the_current_session_logs_the_caller_out(
    client: httpx.AsyncClient, api: str
) -> None:
    tokens = await login(client, api, await register(client, api))
    response = await client.delete(
        f"{api}/auth/sessions/{tokens['session_id']}", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 204
    await assert_tokens_dead(client, api, tokens)


@pytest.mark.parametrize("whose", ["another user's", "nobody's"])
async def test_a_session_that_is_not_the_callers_is_not_found_and_stays_alive(
    client: httpx.AsyncClient, api: str, db: AsyncSession, whose: str
) -> None:
    victim = await login(client, api, await register(client, api))
    attacker = await login(client, api, await register(client, api))
    target = victim["session_id"] if whose == "another user's" else str(uuid.uuid4())

    response = await client.delete(
        f"{api}/auth/sessions/{target}", headers=bearer(attacker["access_token"])
    )

    assert response.status_code == 404, response.text
    assert without_request_id(response.json()) == {
        "error": "not_found",
        "detail": "Session not found",
    }
    await assert_tokens_alive(client, api, victim)
    assert await _revoke_reasons(db, victim["session_id"]) == [None]


async def test_a_malformed_session_id_is_a_422(client: httpx.AsyncClient, api: str) -> None:
    tokens = await login(client, api, await register(client, api))
    response = await client.delete(
        f"{api}/auth/sessions/not-a-uuid", headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
