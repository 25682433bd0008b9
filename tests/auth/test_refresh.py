"""Refresh-token rotation, reuse detection (the whole session dies) and, with no grace window,
racing refreshes (the grace window itself: test_refresh_grace.py)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.registry import Stores
from tests.accounts import bearer, login, me, refresh, register
from tests.apps import dedicated_app
from tests.auth.flows import (
    TOKEN_KEYS,
    actions,
    assert_invalid_refresh,
    assert_tokens_alive,
    assert_tokens_dead,
    audit_trail,
    revoked_in_redis,
    session_row,
    sha256_hex,
)
from tests.clients import http_for


async def test_refresh_rotates_all_three_tokens_and_spends_the_old_refresh_token(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account = await register(client, api)
    first = await login(client, api, account)

    response = await refresh(client, api, first["refresh_token"])

    assert response.status_code == 200, response.text
    second = response.json()
    assert set(second) == TOKEN_KEYS
    assert second["token_type"] == "bearer"
    assert second["session_id"] == first["session_id"]  # the same session, rotated
    for kind in ("access_token", "session_token", "refresh_token"):
        assert second[kind] != first[kind]
    await assert_tokens_alive(client, api, second)

    row = await session_row(db, first["session_id"])
    assert row.refresh_token_hash == sha256_hex(second["refresh_token"])
    assert (row.rotation_counter, row.revoked_at) == (1, None)
    spent = await db.scalar(
        text("SELECT session_id FROM spent_refresh_tokens WHERE token_hash = :h"),
        {"h": sha256_hex(first["refresh_token"])},
    )
    assert spent == uuid.UUID(first["session_id"])
    trail = await audit_trail(db, user_id=account.id)
    assert [r["action"] for r in trail] == ["auth.register", "auth.login", "auth.refresh"]
    assert trail[-1]["data"] == {"session_id": first["session_id"]}


async def test_reusing_a_spent_refresh_token_revokes_the_whole_session(
    client: httpx.AsyncClient, api: str, db: AsyncSession, stores: Stores
) -> None:
    account = await register(client, api)
    other_session = await login(client, api, account)
    first = await login(client, api, account)
    second = (await refresh(client, api, first["refresh_token"])).json()
    newest = (await refresh(client, api, second["refresh_token"])).json()
    await assert_tokens_alive(client, api, newest)

    assert_invalid_refresh(await refresh(client, api, first["refresh_token"]))  # theft

    # the thief's copy and the legitimate newest tokens are all dead now
    assert_invalid_refresh(await refresh(client, api, newest["refresh_token"]))
    for tokens in (first, second, newest):
        await assert_tokens_dead(client, api, tokens)
    row = await session_row(db, first["session_id"])
    assert row.revoked_at is not None
    assert row.revoke_reason == "refresh_reuse"
    assert await revoked_in_redis(stores, account.id, first["session_id"])
    trail = await audit_trail(db, user_id=account.id)
    assert trail[-1]["action"] == "auth.refresh_reuse"
    assert trail[-1]["data"] == {"sessions": [first["session_id"]]}

    # the user's other session is untouched
    await assert_tokens_alive(client, api, other_session)
    assert (await refresh(client, api, other_session["refresh_token"])).status_code == 200


async def test_an_unknown_refresh_token_is_refused_without_side_effects(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account = await register(client, api)
    tokens = await login(client, api, account)

    assert_invalid_refresh(await refresh(client, api, secrets.token_urlsafe(32)))

    await assert_tokens_alive(client, api, tokens)
    assert await actions(db, user_id=account.id) == ["auth.register", "auth.login"]


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": "short"}, {"refresh_token": "x" * 129}, {"refresh_token": 1}],
)
async def test_a_malformed_refresh_request_is_a_422(
    client: httpx.AsyncClient, api: str, body: dict[str, Any]
) -> None:
    response = await client.post(f"{api}/auth/refresh", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_an_access_token_is_not_a_refresh_token(client: httpx.AsyncClient, api: str) -> None:
    tokens = await login(client, api, await register(client, api))
    response = await client.post(
        f"{api}/auth/refresh", json={"refresh_token": tokens["access_token"]}
    )
    assert response.status_code == 422  # a JWT is longer than any refresh token
    await assert_tokens_alive(client, api, tokens)


async def test_a_logged_out_sessions_refresh_token_is_dead(
    client: httpx.AsyncClient, api: str
) -> None:
    tokens = await login(client, api, await register(client, api))
    logout = await client.post(f"{api}/auth/logout", headers=bearer(tokens["access_token"]))
    assert logout.status_code == 204
    assert_invalid_refresh(await refresh(client, api, tokens["refresh_token"]))


async def test_with_no_grace_two_racing_refreshes_succeed_exactly_once(api: str) -> None:
    """REFRESH_REUSE_GRACE_SECONDS=0 is strict rotation (real commits): the guarded UPDATE lets
    one of the two win; the loser presented a token spent by then, which counts as reuse."""
    async with dedicated_app(REFRESH_REUSE_GRACE_SECONDS=0) as app, http_for(app) as http:
        stores: Stores = app.state.stores
        tokens = await login(http, api, await register(http, api))

        responses = await asyncio.gather(
            refresh(http, api, tokens["refresh_token"]),
            refresh(http, api, tokens["refresh_token"]),
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 401], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200).json()
        assert_invalid_refresh(next(r for r in responses if r.status_code == 401))
        assert winner["session_id"] == tokens["session_id"]
        async with stores.sessionmaker() as session:
            row = await session_row(session, tokens["session_id"])
            spent = await session.scalar(
                text("SELECT count(*) FROM spent_refresh_tokens WHERE session_id = :id"),
                {"id": uuid.UUID(tokens["session_id"])},
            )
        assert row.rotation_counter == 1  # rotated once, not twice
        assert row.refresh_token_hash == sha256_hex(winner["refresh_token"])
        assert spent == 1
        assert row.revoke_reason == "refresh_reuse"
        assert (await me(http, api, winner["access_token"])).status_code == 401
