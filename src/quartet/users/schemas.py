from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StringConstraints,
)

from quartet.core.schemas import PartialUpdate, ResponseModel, examples


def _phone(value: str) -> str:
    digits = re.sub(r"[\s().-]", "", value)
    if not re.fullmatch(r"\+?[0-9]{7,15}", digits):
        raise ValueError("phone must be 7 to 15 digits, optionally starting with +")
    return digits


Email = Annotated[EmailStr, StringConstraints(max_length=254)]
Username = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,32}$", strip_whitespace=True)
]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_phone)]
FullName = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class UserPublic(ResponseModel):
    """What any API answer may show of a user: never password data."""

    id: uuid.UUID
    email: str
    username: str | None
    phone: str | None
    full_name: str | None
    is_active: bool
    is_superuser: bool
    is_email_verified: bool
    is_phone_verified: bool
    status: str
    auth_type: str
    language: str
    timezone: str
    country: str | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


Status = Literal["active", "inactive", "suspended"]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("unknown time zone") from error
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]

PROFILE_FIELDS = frozenset({"full_name", "username", "phone", "language", "timezone", "country"})
"""What a user may change on their own account; the other fields need users.update."""
NULLABLE_FIELDS = frozenset({"full_name", "username", "phone", "country"})


class UserUpdate(PartialUpdate):
    """Only the fields given change; `null` clears a nullable profile field."""

    nullable: ClassVar[frozenset[str]] = NULLABLE_FIELDS
    model_config = examples({"full_name": "Ada King", "timezone": "Europe/London"})

    full_name: FullName | None = None
    username: Username | None = None
    phone: Phone | None = None
    language: Language | None = None
    timezone: TimeZone | None = None
    country: Country | None = None
    email: Email | None = Field(default=None, description="users.update")
    is_active: bool | None = Field(default=None, description="users.update")
    status: Status | None = Field(default=None, description="users.update")
    is_email_verified: bool | None = Field(default=None, description="users.update")
    is_superuser: bool | None = Field(default=None, description="superusers only")
