"""Logging in: JSON by email, username or phone, the OAuth2 form, and what a failure reveals."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.settings import Settings
from tests.accounts import Account, login, me, register, unique
from tests.auth.flows import INVALID_CREDENTIALS, TOKEN_KEYS, actions, audit_trail, claims_of
from tests.responses import without_request_id

ONE_MIB = 1024 * 1024


async def _count(db: AsyncSession, sql: str, **params: Any) -> int:
    return int(await db.scalar(text(sql), params) or 0)


@pytest.mark.parametrize("field", ["email", "username", "phone"])
async def test_json_login_by_each_identifier_returns_the_three_tokens(
    client: httpx.AsyncClient, api: str, db: AsyncSession, settings: Settings, field: str
) -> None:
    account = await register(client, api)

    tokens = await login(client, api, account, field=field, headers={"User-Agent": "ua/1"})

    assert set(tokens) == TOKEN_KEYS
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    session_id = uuid.UUID(tokens["session_id"])
    access = claims_of(tokens["access_token"], settings)
    session = claims_of(tokens["session_token"], settings)
    assert (access["typ"], session["typ"]) == ("access", "session")
    for claims in (access, session):
        assert claims["sub"] == str(account.id)
        assert claims["sid"] == str(session_id)
        assert claims["roles"] == []
    assert access["exp"] - access["iat"] == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    assert session["exp"] - session["iat"] == settings.SESSION_TOKEN_EXPIRE_DAYS * 86400
    assert session["user"]["email"] == account.email
    assert session["user"]["is_superuser"] is False
    assert access["jti"] != session["jti"]
    assert tokens["refresh_token"].count(".") == 0  # opaque, not a JWT
    assert len(tokens["refresh_token"]) >= 43  # 256 bits, URL-safe base64

    row = (
        await db.execute(
            text(
                "SELECT user_id, refresh_token_hash, user_agent, ip, revoked_at "
                "FROM auth_sessions WHERE id = :id"
            ),
            {"id": session_id},
        )
    ).one()
    assert row.user_id == account.id
    assert row.refresh_token_hash == hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    assert (row.user_agent, row.ip, row.revoked_at) == ("ua/1", "127.0.0.1", None)

    profile = await me(client, api, tokens["access_token"])
    assert profile.status_code == 200, profile.text
    assert profile.json()["last_login_at"] is not None
    last_login = await db.scalar(
        text("SELECT last_login_at FROM users WHERE id = :id"), {"id": account.id}
    )
    assert last_login is not None

    trail = await audit_trail(db, user_id=account.id)
    assert [r["action"] for r in trail] == ["auth.register", "auth.login"]
    assert trail[1]["data"] == {"session_id": str(session_id), "method": "password"}
    assert (trail[1]["ip"], trail[1]["user_agent"]) == ("127.0.0.1", "ua/1")


@pytest.mark.parametrize("field", ["email", "username"])
async def test_identifiers_match_case_insensitively(
    client: httpx.AsyncClient, api: str, field: str
) -> None:
    account = await register(client, api)
    response = await client.post(
        f"{api}/auth/login",
        json={field: account.identifier(field).upper(), "password": account.password},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", ["email", "username", "phone"])
async def test_oauth2_password_form_logs_in_with_any_identifier_in_username(
    client: httpx.AsyncClient, api: str, db: AsyncSession, field: str
) -> None:
    account = await register(client, api)

    response = await client.post(
        f"{api}/auth/token",
        data={"username": account.identifier(field), "password": account.password},
    )

    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) == TOKEN_KEYS
    assert tokens["token_type"] == "bearer"
    assert (await me(client, api, tokens["access_token"])).json()["id"] == str(account.id)
    assert await actions(db, user_id=account.id) == ["auth.register", "auth.login"]


async def test_oauth2_form_with_a_wrong_password_is_invalid_credentials(
    client: httpx.AsyncClient, api: str
) -> None:
    account = await register(client, api)
    response = await client.post(
        f"{api}/auth/token", data={"username": account.email, "password": "wrong-password-1"}
    )
    assert response.status_code == 401
    assert without_request_id(response.json()) == INVALID_CREDENTIALS


async def test_unknown_email_and_wrong_password_answer_identically(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    """No enumeration: the same status, headers of substance and body, apart from request_id."""
    account = await register(client, api)
    inactive = await register(client, api)
    await db.execute(text("UPDATE users SET is_active = false WHERE id = :id"), {"id": inactive.id})

    attempts = {
        "unknown email": {"email": f"{unique()}@example.com", "password": account.password},
        "wrong password": {"email": account.email, "password": "wrong-password-1"},
        "inactive account": {"email": inactive.email, "password": inactive.password},
        "unknown username": {"username": unique(), "password": account.password},
        "wrong password by username": {"username": account.username, "password": "nope-nope-1"},
    }
    answers = []
    for body in attempts.values():
        response = await client.post(f"{api}/auth/login", json=body)
        headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
        answers.append((response.status_code, headers, without_request_id(response.json())))
    status, headers, body = answers[0]
    assert (status, headers["www-authenticate"], body) == (401, "Bearer", INVALID_CREDENTIALS)
    assert all(answer == answers[0] for answer in answers), answers

    failed = await audit_trail(db, user_id=account.id)
    assert [r["action"] for r in failed] == [
        "auth.register",
        "auth.login_failed",
        "auth.login_failed",
    ]
    assert [r["data"] for r in failed[1:]] == [
        {"identifier_kind": "email"},
        {"identifier_kind": "username"},
    ]


async def test_passwords_longer_than_72_bytes_are_not_truncated(
    client: httpx.AsyncClient, api: str
) -> None:
    """bcrypt alone reads 72 bytes; two passwords sharing those must still differ."""
    password = "Aa1" + "x" * 69 + "tail-that-matters-1"
    assert len(password.encode()) > 72
    account = await register(client, api, password=password)

    same_prefix = password[:72] + "another-tail-99"
    for wrong in (same_prefix, password[:72]):
        response = await client.post(
            f"{api}/auth/login", json={"email": account.email, "password": wrong}
        )
        assert response.status_code == 401, wrong
        assert without_request_id(response.json()) == INVALID_CREDENTIALS

    assert (await login(client, api, account))["token_type"] == "bearer"


async def test_multibyte_passwords_past_72_bytes_are_not_truncated(
    client: httpx.AsyncClient, api: str
) -> None:
    password = "ñandú-1" * 12  # 84 characters, 108 bytes
    assert (len(password), len(password.encode())) == (84, 108)
    account = await register(client, api, password=password)
    response = await client.post(
        f"{api}/auth/login", json={"email": account.email, "password": password[:-1] + "2"}
    )
    assert response.status_code == 401
    assert (await login(client, api, account))["session_id"]


@pytest.mark.parametrize(
    ("size", "status", "error"),
    [
        (ONE_MIB, 413, "payload_too_large"),  # the body limit answers before any parsing
        (1_000_000, 422, "validation_error"),  # fits the body limit; the schema caps it
        (1025, 422, "validation_error"),
    ],
)
async def test_a_huge_password_is_refused_before_any_hashing(
    client: httpx.AsyncClient, api: str, db: AsyncSession, size: int, status: int, error: str
) -> None:
    account = await register(client, api)
    email = f"{unique()}@example.com"

    logged = await client.post(
        f"{api}/auth/login", json={"email": account.email, "password": "x" * size}
    )
    registered = await client.post(
        f"{api}/auth/register", json={"email": email, "password": ("x1" * size)[:size]}
    )
    form = await client.post(
        f"{api}/auth/token", data={"username": account.email, "password": "x" * size}
    )

    for response in (logged, registered):
        assert response.status_code == status, response.text[:300]
        assert response.json()["error"] == error
    if status == 422:
        assert logged.json()["fields"][0]["loc"] == ["body", "password"]
        assert logged.json()["fields"][0]["type"] == "string_too_long"
    # the form carries no schema cap of its own: an oversized password is simply not a login
    assert form.status_code == (413 if size == ONE_MIB else 401), form.text[:300]
    # nothing reached bcrypt: no failed-login row, no lockout counted, no user created
    assert await actions(db, user_id=account.id) == ["auth.register"]
    assert await _count(db, "SELECT count(*) FROM users WHERE email = :e", e=email) == 0
    assert (await login(client, api, account))["token_type"] == "bearer"


@pytest.mark.parametrize(
    "body",
    [
        {"password": "whatever-1"},  # no identifier
        {"email": "a@example.com", "username": "abc", "password": "whatever-1"},  # two
        {"email": "a@example.com"},  # no password
        {"email": "a@example.com", "password": ""},
        {"email": "a@example.com", "password": "whatever-1", "remember": True},  # unknown
    ],
)
async def test_a_malformed_login_is_a_422(
    client: httpx.AsyncClient, api: str, db: AsyncSession, body: dict[str, Any]
) -> None:
    before = await _count(db, "SELECT count(*) FROM audit_logs WHERE action = 'auth.login_failed'")
    response = await client.post(f"{api}/auth/login", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    after = await _count(db, "SELECT count(*) FROM audit_logs WHERE action = 'auth.login_failed'")
    assert after == before


async def test_login_sessions_are_separate(client: httpx.AsyncClient, api: str) -> None:
    account: Account = await register(client, api)
    first, second = await login(client, api, account), await login(client, api, account)
    assert first["session_id"] != second["session_id"]
    assert first["refresh_token"] != second["refresh_token"]
