from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints


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


class UserPublic(BaseModel):
    """What any API answer may show of a user: never password data."""

    model_config = ConfigDict(from_attributes=True)

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
