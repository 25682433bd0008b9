from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, StringConstraints, model_validator

from quartet.core.schemas import ResponseModel, StrictInput, examples
from quartet.users.repository import Identifier
from quartet.users.schemas import Email, FullName, Phone, Username

MAX_PASSWORD_INPUT = 1024  # hard cap before any hashing; the policy maximum is a setting

PasswordInput = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_INPUT)]
"""A password as typed (the service checks the policy)."""
OpaqueToken = Annotated[str, StringConstraints(min_length=16, max_length=128)]
"""A refresh token, emailed link token or verification proof, as the client was given it."""


class RegisterIn(StrictInput):
    email: Email
    password: PasswordInput
    full_name: FullName | None = None
    username: Username | None = None
    phone: Phone | None = None

    model_config = examples(
        {
            "email": "ada@example.com",
            "password": "correct horse battery staple",
            "full_name": "Ada Lovelace",
            "username": "ada",
        }
    )


class _OneIdentifier(StrictInput):
    """Exactly one of email, username or phone."""

    email: Email | None = None
    username: Username | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("email", "username", "phone") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of email, username or phone")
        return self

    @property
    def identifier(self) -> tuple[Identifier, str]:
        for name in ("email", "username", "phone"):
            value = getattr(self, name)
            if value:
                return name, str(value)  # type: ignore[return-value,unused-ignore]
        raise AssertionError("validated")  # pragma: no cover


class LoginIn(_OneIdentifier):
    password: PasswordInput

    model_config = examples(
        {"email": "ada@example.com", "password": "correct horse battery staple"}
    )


class AvailabilityIn(_OneIdentifier):
    pass

    model_config = examples({"username": "ada"})


class AvailabilityOut(BaseModel):
    field: Identifier
    available: bool

    model_config = examples({"field": "username", "available": False})


class RefreshIn(StrictInput):
    refresh_token: OpaqueToken

    model_config = examples({"refresh_token": "rt_3q9ZkP0vB7xW2mL5nC8d"})


class TokenResponse(BaseModel):
    """The tokens of a login or refresh; they are null when they travel only in httpOnly
    cookies (`AUTH_TRANSPORT=cookie`, or a refresh made with the refresh cookie)."""

    access_token: str | None
    session_token: str | None
    refresh_token: str | None
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    session_id: uuid.UUID

    model_config = examples(
        {
            "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig",
            "session_token": "st_7Hc2Vb9Kq1Lm4Np6",
            "refresh_token": "rt_3q9ZkP0vB7xW2mL5nC8d",
            "token_type": "bearer",
            "expires_in": 900,
            "session_id": "0193c5b3-0a1f-7b2e-8c4d-5e6f7a8b9c0d",
        }
    )


class SessionOut(ResponseModel):
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool = False


class RevokedOut(BaseModel):
    revoked: int

    model_config = examples({"revoked": 3})
