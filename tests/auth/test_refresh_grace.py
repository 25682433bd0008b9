"""The refresh reuse grace window (REFRESH_REUSE_GRACE_SECONDS, 10 s here as by default).

A spent refresh token presented again within the window, while its successor is still the
session's current token, is answered with that same successor: tabs refreshing at once and a
retry after a lost response all succeed and converge on one token. After the window, or a
grandparent at any time, it is reuse and the whole session dies, as without a window.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.stores.registry import Stores
from tests.accounts import Account, login, refresh, register
from tests.auth.flows import (
    assert_invalid_refresh,
    assert_tokens_alive,
    assert_tokens_dead,
    audit_trail,
    revoked_in_redis,
    session_row,
    sha256_hex,
)
from tests.events.helpers import drained
from tests.query_counts import ran, snapshot

GRACE = 10


async def _refreshed(http: httpx.AsyncClient, api: str, token: str) -> dict[str, Any]:
    response = await refresh(http, api, token)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def _live_sessions(stores: Stores, user_id: uuid.UUID) -> int:
    async with stores.sessionmaker() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM auth_sessions WHERE user_id = :u AND revoked_at IS NULL"),
            {"u": user_id},
        )
    return int(count or 0)


def test_the_window_defaults_to_ten_seconds(app: FastAPI) -> None:
    assert app.state.settings.REFRESH_REUSE_GRACE_SECONDS == GRACE


@pytest.mark.parametrize("tabs", [2, 10])
async def test_concurrent_refreshes_with_one_token_all_succeed_and_leave_one_session(
    raw_client: httpx.AsyncClient, api: str, stores: Stores, tabs: int
) -> None:
    """Real commits: one refresh wins the guarded UPDATE, the others wait for its commit and
    are answered from the grace window with the very same successor."""
    account = await register(raw_client, api)
    tokens = await login(raw_client, api, account)

    responses = await asyncio.gather(
        *(refresh(raw_client, api, tokens["refresh_token"]) for _ in range(tabs))
    )

    assert [r.status_code for r in responses] == [200] * tabs, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert {a["refresh_token"] for a in answers} == {answers[0]["refresh_token"]}
    assert {a["session_id"] for a in answers} == {tokens["session_id"]}
    for answer in answers:  # nobody was logged out
        await assert_tokens_alive(raw_client, api, answer)
    async with stores.sessionmaker() as session:
        row = await session_row(session, tokens["session_id"])
    assert (row.rotation_counter, row.revoked_at) == (1, None)
    assert row.refresh_token_hash == sha256_hex(answers[0]["refresh_token"])
    assert await _live_sessions(stores, account.id) == 1

    newest = await _refreshed(raw_client, api, answers[0]["refresh_token"])
    await assert_tokens_alive(raw_client, api, newest)
    assert await _live_sessions(stores, account.id) == 1


async def test_a_retry_after_a_lost_response_gets_the_same_successor(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    account = await register(client, api)
    tokens = await login(client, api, account)
    lost = await _refreshed(client, api, tokens["refresh_token"])  # never reached the client

    retried = await _refreshed(client, api, tokens["refresh_token"])

    assert retried["refresh_token"] == lost["refresh_token"]
    assert retried["access_token"] != lost["access_token"]  # fresh bearer tokens
    await assert_tokens_alive(client, api, retried)
    row = await session_row(db, tokens["session_id"])
    assert (row.rotation_counter, row.revoked_at) == (1, None)
    trail = await audit_trail(db, user_id=account.id)
    assert [(r["action"], r["data"]) for r in trail[-2:]] == [
        ("auth.refresh", {"session_id": tokens["session_id"]}),
        ("auth.refresh", {"session_id": tokens["session_id"], "within_grace": True}),
    ]
    assert (await refresh(client, api, retried["refresh_token"])).status_code == 200


async def _assert_revoked_for_reuse(
    client: httpx.AsyncClient,
    api: str,
    db: AsyncSession,
    stores: Stores,
    app: FastAPI,
    account: Account,
    session_id: str,
) -> None:
    """The session is revoked as reuse: row, Redis flag, audit row and activity event."""
    row = await session_row(db, session_id)
    assert row.revoked_at is not None
    assert row.revoke_reason == "refresh_reuse"
    assert await revoked_in_redis(stores, account.id, session_id)
    trail = await audit_trail(db, user_id=account.id)
    assert (trail[-1]["action"], trail[-1]["data"]) == (
        "auth.refresh_reuse",
        {"sessions": [session_id]},
    )
    await drained(app.state.activity)
    other = await login(client, api, account)
    feed = await client.get(
        f"{api}/activity",
        params={"event_type": "auth.refresh_reuse"},
        headers={"Authorization": f"Bearer {other['access_token']}"},
    )
    assert feed.status_code == 200, feed.text
    assert [e["event_type"] for e in feed.json()["items"]] == ["auth.refresh_reuse"]
    assert session_id in feed.json()["items"][0]["metadata"]


async def test_the_parent_presented_after_the_window_is_reuse(
    client: httpx.AsyncClient, api: str, db: AsyncSession, stores: Stores, app: FastAPI
) -> None:
    account = await register(client, api)
    tokens = await login(client, api, account)
    child = await _refreshed(client, api, tokens["refresh_token"])
    await db.execute(  # the window passed: spent GRACE seconds (and a bit) ago
        text(
            "UPDATE spent_refresh_tokens SET spent_at = spent_at - make_interval(secs => :s) "
            "WHERE token_hash = :h"
        ),
        {"s": GRACE + 0.5, "h": sha256_hex(tokens["refresh_token"])},
    )

    assert_invalid_refresh(await refresh(client, api, tokens["refresh_token"]))

    await _assert_revoked_for_reuse(client, api, db, stores, app, account, tokens["session_id"])
    await assert_tokens_dead(client, api, child)
    assert_invalid_refresh(await refresh(client, api, child["refresh_token"]))


async def test_a_grandparent_is_reuse_even_within_the_window(
    client: httpx.AsyncClient, api: str, db: AsyncSession, stores: Stores, app: FastAPI
) -> None:
    account = await register(client, api)
    tokens = await login(client, api, account)
    child = await _refreshed(client, api, tokens["refresh_token"])
    grandchild = await _refreshed(client, api, child["refresh_token"])

    assert_invalid_refresh(await refresh(client, api, tokens["refresh_token"]))

    await _assert_revoked_for_reuse(client, api, db, stores, app, account, tokens["session_id"])
    await assert_tokens_dead(client, api, grandchild)
    assert_invalid_refresh(await refresh(client, api, grandchild["refresh_token"]))


async def test_a_spent_token_of_a_revoked_session_gets_no_grace(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    tokens = await login(client, api, await register(client, api))
    child = await _refreshed(client, api, tokens["refresh_token"])
    logout = await client.post(
        f"{api}/auth/logout", headers={"Authorization": f"Bearer {child['access_token']}"}
    )
    assert logout.status_code == 204

    assert_invalid_refresh(await refresh(client, api, tokens["refresh_token"]))
    assert (await session_row(db, tokens["session_id"])).revoke_reason == "logout"


async def test_a_refresh_costs_the_same_statements_with_or_without_the_window(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    """Counted by the query monitor, with real commits (no test savepoints): rotation is the
    guarded UPDATE and the spent-token INSERT, then the user, the effective permissions (a
    refresh picks up a changed set) and the audit row, as before the window existed; a refresh
    answered from the window swaps the first two for one SELECT."""
    tokens = await login(raw_client, api, await register(raw_client, api))

    before = snapshot(stores)
    await _refreshed(raw_client, api, tokens["refresh_token"])
    normal = ran(before, snapshot(stores))
    before = snapshot(stores)
    await _refreshed(raw_client, api, tokens["refresh_token"])
    within_grace = ran(before, snapshot(stores))

    assert normal == [
        "1 INSERT INTO audit_logs",
        "1 INSERT INTO spent_refresh_tokens",
        "1 SELECT DISTINCT permissions.codename",
        "1 SELECT users.id, users.created_at,",
        "1 UPDATE auth_sessions SET",
    ]
    assert within_grace == [
        "1 INSERT INTO audit_logs",
        "1 SELECT DISTINCT permissions.codename",
        "1 SELECT auth_sessions.id, auth_sessions.created_at,",
        "1 SELECT users.id, users.created_at,",
        "1 UPDATE auth_sessions SET",
    ]
