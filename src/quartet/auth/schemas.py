from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from quartet.core.schemas import ResponseModel, StrictInput
from quartet.users.repository import Identifier
from quartet.users.schemas import Email, FullName, Phone, Username

MAX_PASSWORD_INPUT = 1024  # hard cap before any hashing; the policy maximum is a setting


class RegisterIn(StrictInput):
    email: Email
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)
    full_name: FullName | None = None
    username: Username | None = None
    phone: Phone | None = None


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
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_INPUT)


class AvailabilityIn(_OneIdentifier):
    pass


class AvailabilityOut(BaseModel):
    field: Identifier
    available: bool


class RefreshIn(StrictInput):
    refresh_token: str = Field(min_length=16, max_length=128)


class TokenResponse(BaseModel):
    """The tokens of a login or refresh; they are null when they travel only in httpOnly
    cookies (`AUTH_TRANSPORT=cookie`, or a refresh made with the refresh cookie)."""

    access_token: str | None
    session_token: str | None
    refresh_token: str | None
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    session_id: uuid.UUID


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
