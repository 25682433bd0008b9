"""Redis expires an idle session by itself; with SESSION_IDLE_LOGOUT that ends the tokens."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from quartet.sessions.repository import ActivitySessionRepository
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, bearer, login, me, refresh, sign_up, sign_up_superuser
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.responses import without_request_id

SHORT_TTL = 1
PAST_TTL = 1.4  # seconds of idleness that outlast SHORT_TTL
IDLE = {"error": "session_idle_timeout", "detail": "Session ended after inactivity; log in again"}


def assert_idle(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert without_request_id(response.json()) == IDLE


async def revoke_reasons(app: FastAPI, session_id: str) -> str | None:
    stores: Stores = app.state.stores
    async with stores.sessionmaker() as session:
        reason: str | None = await session.scalar(
            text("SELECT revoke_reason FROM auth_sessions WHERE id = :id"), {"id": session_id}
        )
    return reason


async def test_an_idle_session_expires_by_itself_and_tokens_live_on_by_default(
    api: str,
) -> None:
    async with dedicated_app(SESSION_TTL_SECONDS=SHORT_TTL) as app, http_for(app) as http:
        admin = await sign_up_superuser(http, api, app.state.stores)
        user = await sign_up(http, api)
        live = await http.get(f"{api}/session/{user.id}", headers=admin.headers)
        assert live.status_code == 200
        assert 0 <= live.json()["ttl_seconds"] <= SHORT_TTL
        await asyncio.sleep(PAST_TTL)

        gone = await http.get(f"{api}/session/{user.id}", headers=admin.headers)
        assert gone.status_code == 404
        assert gone.json()["error"] == "session_not_found"
        assert (await me(http, api, user.tokens["access_token"])).status_code == 200
        assert (await http.get(f"{api}/session/{user.id}", headers=user.headers)).status_code == 404


async def test_activity_keeps_the_session_alive_past_its_ttl(api: str) -> None:
    async with (
        dedicated_app(SESSION_TTL_SECONDS=SHORT_TTL, SESSION_IDLE_LOGOUT=True) as app,
        http_for(app) as http,
    ):
        user = await sign_up(http, api)
        for _ in range(6):  # 2.4 s in all, never idle for a whole TTL
            await asyncio.sleep(0.4)
            assert (await me(http, api, user.tokens["access_token"])).status_code == 200
        session = await http.get(f"{api}/session/{user.id}", headers=user.headers)
        assert session.status_code == 200


async def test_idle_logout_ends_every_token_of_the_user(api: str) -> None:
    async with (
        dedicated_app(SESSION_TTL_SECONDS=SHORT_TTL, SESSION_IDLE_LOGOUT=True) as app,
        http_for(app) as http,
    ):
        user = await sign_up(http, api)
        assert (await me(http, api, user.tokens["session_token"])).status_code == 200
        await asyncio.sleep(PAST_TTL)

        for kind in ("access_token", "session_token"):
            assert_idle(await me(http, api, user.tokens[kind]))

        again = await login(http, api, user)  # a new activity session...
        assert (await me(http, api, again["access_token"])).status_code == 200
        for kind in ("access_token", "session_token"):  # ...that the old tokens do not join
            assert_idle(await me(http, api, user.tokens[kind]))

        # the idle auth session's refresh token is revoked
        refreshed = await refresh(http, api, user.tokens["refresh_token"])
        assert refreshed.status_code == 401
        assert await revoke_reasons(app, user.tokens["session_id"]) == "idle_timeout"
        assert (await me(http, api, user.tokens["access_token"])).status_code == 401


async def test_a_login_after_expiry_does_not_revive_an_idle_device(api: str) -> None:
    """Device A goes idle and makes no request; device B logs in after the expiry. A's tokens
    stay ended although the user has a live activity session again."""
    async with (
        dedicated_app(SESSION_TTL_SECONDS=SHORT_TTL, SESSION_IDLE_LOGOUT=True) as app,
        http_for(app) as http,
    ):
        device_a = await sign_up(http, api)
        await asyncio.sleep(PAST_TTL)
        device_b = await login(http, api, device_a)

        assert (await me(http, api, device_b["access_token"])).status_code == 200
        assert_idle(await me(http, api, device_a.tokens["access_token"]))
        refreshed = await refresh(http, api, device_a.tokens["refresh_token"])
        assert refreshed.status_code == 401
        sessions = await http.get(f"{api}/auth/sessions", headers=bearer(device_b["access_token"]))
        assert [s["id"] for s in sessions.json()] == [device_b["session_id"]]


async def test_a_second_device_joins_the_live_session(api: str) -> None:
    async with (
        dedicated_app(SESSION_TTL_SECONDS=5, SESSION_IDLE_LOGOUT=True) as app,
        http_for(app) as http,
    ):
        device_a = await sign_up(http, api)
        device_b = await login(http, api, device_a)
        for tokens in (device_a.tokens, device_b):
            assert (await me(http, api, tokens["access_token"])).status_code == 200
        refreshed = await refresh(http, api, device_a.tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        assert (await me(http, api, refreshed.json()["access_token"])).status_code == 200


async def test_deleting_the_session_logs_the_user_out_with_idle_logout(api: str) -> None:
    async with (
        dedicated_app(SESSION_IDLE_LOGOUT=True) as app,
        http_for(app) as http,
    ):
        user: SignedIn = await sign_up(http, api)
        admin = await sign_up_superuser(http, api, app.state.stores)
        deleted = await http.delete(f"{api}/session/{user.id}", headers=admin.headers)
        assert deleted.status_code == 204
        assert_idle(await me(http, api, user.tokens["access_token"]))
        assert (await me(http, api, admin.tokens["access_token"])).status_code == 200


async def test_a_revoked_token_does_not_keep_the_session_alive(api: str) -> None:
    async with dedicated_app() as app, http_for(app) as http:
        user = await sign_up(http, api)
        stores: Stores = app.state.stores
        key = ActivitySessionRepository.from_settings(stores.redis, app.state.settings).key(user.id)
        logout = await http.post(f"{api}/auth/logout", headers=user.headers)
        assert logout.status_code == 204
        await stores.redis.expire(key, 100)
        assert (await me(http, api, user.tokens["access_token"])).status_code == 401
        assert await stores.redis.ttl(key) <= 100
