"""What the auth tests share on top of tests.accounts: expected errors, token checks, JWT claims,
audit reads."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

import httpx
import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.state_repository import AuthStateRepository
from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import me
from tests.responses import without_request_id

TOKEN_KEYS = {
    "access_token",
    "session_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "session_id",
}
INVALID_TOKEN = {"error": "invalid_token", "detail": "Invalid, expired or revoked token"}
INVALID_CREDENTIALS = {"error": "invalid_credentials", "detail": "Incorrect login or password"}
INVALID_REFRESH = {
    "error": "invalid_refresh_token",
    "detail": "Invalid, expired or revoked refresh token",
}


def unique_ip(first: int = 203) -> str:
    """A random address; tests that share a dedicated app's rate-limit budgets keep apart."""
    return ".".join([str(first), *(str(secrets.randbelow(250) + 1) for _ in range(3))])


def claims_of(token: str, settings: Settings) -> dict[str, Any]:
    """A token's verified claims."""
    claims: dict[str, Any] = jwt.decode(
        token,
        settings.SECRET_KEY.get_secret_value(),
        algorithms=[settings.JWT_ALGORITHM],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
    )
    return claims


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert without_request_id(response.json()) == INVALID_TOKEN


async def assert_tokens_dead(http: httpx.AsyncClient, api: str, tokens: dict[str, Any]) -> None:
    """Neither bearer token of a session authenticates any more."""
    for kind in ("access_token", "session_token"):
        assert_invalid_token(await me(http, api, tokens[kind]))


async def assert_tokens_alive(http: httpx.AsyncClient, api: str, tokens: dict[str, Any]) -> None:
    for kind in ("access_token", "session_token"):
        response = await me(http, api, tokens[kind])
        assert response.status_code == 200, response.text


def sha256_hex(token: str) -> str:
    """What the database stores for an opaque token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def session_row(db: AsyncSession, session_id: str) -> Any:
    """The auth session's refresh hash, rotation count and revocation."""
    return (
        await db.execute(
            text(
                "SELECT refresh_token_hash, rotation_counter, revoked_at, revoke_reason "
                "FROM auth_sessions WHERE id = :id"
            ),
            {"id": uuid.UUID(session_id)},
        )
    ).one()


def assert_invalid_refresh(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert without_request_id(response.json()) == INVALID_REFRESH


async def revoked_in_redis(stores: Stores, user_id: uuid.UUID, session_id: str) -> bool:
    """The session's revocation flag (what every bearer check reads) is set."""
    state = AuthStateRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX)
    return bool(await stores.redis.exists(state.revoked_key(user_id, session_id)))


async def audit_trail(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, ip: str | None = None
) -> list[dict[str, Any]]:
    """Audit rows for a user or an address, oldest first."""
    assert (user_id is None) != (ip is None)
    column, value = ("user_id", user_id) if user_id is not None else ("ip", ip)
    rows = await session.execute(
        text(
            "SELECT action, user_id, ip, user_agent, data FROM audit_logs "
            f"WHERE {column} = :value ORDER BY created_at, id"
        ),
        {"value": value},
    )
    return [dict(row._mapping) for row in rows]


async def actions(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, ip: str | None = None
) -> list[str]:
    return [row["action"] for row in await audit_trail(session, user_id=user_id, ip=ip)]
