"""POST /auth/register: a public user back, uniqueness per identifier, the password policy."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import PASSWORD, unique, unique_phone
from tests.auth.flows import actions, audit_trail
from tests.responses import without_request_id

PUBLIC_FIELDS = {
    "id",
    "email",
    "username",
    "phone",
    "full_name",
    "is_active",
    "is_superuser",
    "is_email_verified",
    "is_phone_verified",
    "status",
    "auth_type",
    "language",
    "timezone",
    "country",
    "last_login_at",
    "created_at",
    "updated_at",
}


def _body(**overrides: Any) -> dict[str, Any]:
    name = unique()
    return {
        "email": f"{name}@example.com",
        "password": PASSWORD,
        "username": name,
        "phone": unique_phone(),
        "full_name": "Ada Lovelace",
        **overrides,
    }


async def _user_count(db: AsyncSession, email: str) -> int:
    count = await db.scalar(text("SELECT count(*) FROM users WHERE email = :e"), {"e": email})
    return int(count or 0)


async def test_register_returns_the_public_user_and_stores_only_a_bcrypt_hash(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    body = _body(phone="+1 (555) 010-2030")
    response = await client.post(
        f"{api}/auth/register", json=body, headers={"User-Agent": "register-test/1"}
    )

    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == PUBLIC_FIELDS
    assert PASSWORD not in response.text
    assert "hashed" not in response.text
    assert "$2b$" not in response.text
    uuid.UUID(user["id"])
    assert user["email"] == body["email"]
    assert user["username"] == body["username"]
    assert user["phone"] == "+15550102030"  # normalised
    assert user["full_name"] == "Ada Lovelace"
    assert (user["is_active"], user["is_superuser"], user["is_email_verified"]) == (
        True,
        False,
        False,
    )
    assert (user["status"], user["auth_type"], user["last_login_at"]) == (
        "active",
        "password",
        None,
    )

    stored = await db.scalar(
        text("SELECT hashed_password FROM users WHERE id = :id"), {"id": uuid.UUID(user["id"])}
    )
    assert stored.startswith("$2b$04$")  # bcrypt, the test cost factor
    assert PASSWORD not in stored

    trail = await audit_trail(db, user_id=uuid.UUID(user["id"]))
    assert [(r["action"], r["ip"], r["user_agent"]) for r in trail] == [
        ("auth.register", "127.0.0.1", "register-test/1")
    ]


@pytest.mark.parametrize(
    ("field", "variant"),
    [
        ("email", str.upper),  # CITEXT: the same address in another case
        ("username", str.upper),
        ("phone", lambda p: f"{p[:2]} ({p[2:5]}) {p[5:8]}-{p[8:]}"),  # another spelling
    ],
)
async def test_a_taken_identifier_is_a_409(
    client: httpx.AsyncClient, api: str, db: AsyncSession, field: str, variant: Any
) -> None:
    first = _body()
    assert (await client.post(f"{api}/auth/register", json=first)).status_code == 201
    second = _body(**{field: variant(first[field])})

    response = await client.post(f"{api}/auth/register", json=second)

    assert response.status_code == 409, response.text
    assert without_request_id(response.json()) == {
        "error": "conflict",
        "detail": f"That {field} is already registered",
    }
    assert await _user_count(db, second["email"]) == (1 if field == "email" else 0)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("abc1", "at least 8 characters"),
        ("abcdefghijk", "at least one letter and one digit"),
        ("12345678901", "at least one letter and one digit"),
        ("a1" * 65, "at most 128 characters"),
    ],
)
async def test_a_weak_password_is_refused(
    client: httpx.AsyncClient, api: str, db: AsyncSession, password: str, problem: str
) -> None:
    body = _body(password=password)
    response = await client.post(f"{api}/auth/register", json=body)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "weak_password"
    assert answer["detail"] == f"Password must have {problem}"
    assert await _user_count(db, body["email"]) == 0


@pytest.mark.parametrize("same_as", ["email", "username"])
async def test_a_password_equal_to_an_identifier_is_weak(
    client: httpx.AsyncClient, api: str, same_as: str
) -> None:
    body = _body()
    body["password"] = body[same_as].upper()  # compared case-insensitively

    response = await client.post(f"{api}/auth/register", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "weak_password"
    assert "not your email or username" in response.json()["detail"]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"is_superuser": True}, ["body", "is_superuser"]),  # no mass assignment
        ({"hashed_password": "$2b$04$x"}, ["body", "hashed_password"]),
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"username": "a b"}, ["body", "username"]),
        ({"phone": "12"}, ["body", "phone"]),
        ({"password": ""}, ["body", "password"]),
    ],
)
async def test_unknown_or_malformed_fields_are_a_422(
    client: httpx.AsyncClient,
    api: str,
    db: AsyncSession,
    overrides: dict[str, Any],
    loc: list[str],
) -> None:
    body = _body(**overrides)
    response = await client.post(f"{api}/auth/register", json=body)

    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "validation_error"
    assert [f["loc"] for f in answer["fields"]] == [loc]
    assert await _user_count(db, str(body["email"])) == 0


async def test_only_email_and_password_are_required(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    email = f"{unique()}@example.com"
    response = await client.post(
        f"{api}/auth/register", json={"email": email, "password": PASSWORD}
    )

    assert response.status_code == 201, response.text
    user = response.json()
    assert (user["username"], user["phone"], user["full_name"]) == (None, None, None)
    assert await actions(db, user_id=uuid.UUID(user["id"])) == ["auth.register"]


async def test_missing_email_is_a_422(client: httpx.AsyncClient, api: str) -> None:
    response = await client.post(f"{api}/auth/register", json={"password": PASSWORD})

    assert response.status_code == 422
    assert [f["loc"] for f in response.json()["fields"]] == [["body", "email"]]
