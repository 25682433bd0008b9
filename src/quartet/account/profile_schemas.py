"""Profile and settings shapes (`/settings/...`): what the owner sees, what others see, and the
inputs, each validated before a store is asked."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from quartet.auth.schemas import OpaqueToken, PasswordInput
from quartet.core.schemas import PartialUpdate, ResponseModel, StrictInput, examples
from quartet.users.schemas import FullName, TimeZone, Username, UserPublic

BIO_MAX = 500
Visibility = Literal["public", "private"]
Theme = Literal["light", "dark", "system"]


def _iso_country(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


IsoCountry = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2}$"), AfterValidator(_iso_country)
]
Bio = Annotated[str, StringConstraints(max_length=BIO_MAX, strip_whitespace=True)]
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)
]


class ProfileOut(UserPublic):
    """The caller's own profile: everything `UserPublic` shows plus the profile settings."""

    bio: str | None
    profile_picture_id: uuid.UUID | None
    profile_visibility: Visibility
    show_email: bool
    show_phone: bool
    show_country: bool
    theme: Theme


class PublicProfileOut(BaseModel):
    """Another user's profile: contact fields only where its owner chose to show them."""

    model_config = examples(
        {
            "id": "01938a52-7f00-7c8e-9d4e-0a1b2c3d4e5f",
            "username": "ada",
            "full_name": "Ada Lovelace",
            "bio": "Analyst",
            "profile_picture_id": None,
            "country": "GB",
            "email": None,
            "phone": None,
            "created_at": "2026-12-01T16:00:00Z",
        }
    )

    id: uuid.UUID
    username: str | None
    full_name: str | None
    bio: str | None
    profile_picture_id: uuid.UUID | None
    country: str | None
    email: str | None
    phone: str | None
    created_at: datetime


class SettingsOut(ResponseModel):
    """All of the caller's settings in one answer."""

    model_config = examples(
        {
            "language": "fr",
            "timezone": "Europe/Paris",
            "theme": "dark",
            "country": "FR",
            "profile_visibility": "public",
            "show_email": False,
            "show_phone": False,
            "show_country": True,
            "auth_type": "password",
            "has_password": True,
            "is_email_verified": True,
            "is_phone_verified": False,
            "supported_languages": ["de", "en", "fr"],
        }
    )

    language: str
    timezone: str
    theme: Theme
    country: str | None
    profile_visibility: Visibility
    show_email: bool
    show_phone: bool
    show_country: bool
    auth_type: str
    has_password: bool
    is_email_verified: bool
    is_phone_verified: bool
    supported_languages: list[str]


class ProfileUpdate(PartialUpdate):
    """Only the fields given change; `null` clears one."""

    model_config = examples({"full_name": "Ada Lovelace", "country": "GB"})

    full_name: FullName | None = None
    username: Username | None = None
    bio: Bio | None = None
    country: IsoCountry | None = None

    nullable: ClassVar[frozenset[str]] = frozenset({"full_name", "username", "bio", "country"})


class PictureIn(StrictInput):
    """An image the caller uploaded (`POST /media`), or null to remove the picture."""

    media_id: uuid.UUID | None

    model_config = examples({"media_id": "0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f"})


class AccessibilityIn(StrictInput):
    model_config = examples({"profile_visibility": "private"})

    profile_visibility: Visibility | None = None
    show_email: bool | None = None
    show_phone: bool | None = None
    show_country: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not {f for f in self.model_fields_set if getattr(self, f) is not None}:
            raise ValueError("give at least one setting to change")
        return self

    def changes(self) -> dict[str, object]:
        return {f: v for f in self.model_fields_set if (v := getattr(self, f)) is not None}


class LanguageIn(StrictInput):
    model_config = examples({"language": "fr"})

    language: LanguageTag = Field(description="a BCP-47 tag among SUPPORTED_LANGUAGES")


class ThemeIn(StrictInput):
    theme: Theme

    model_config = examples({"theme": "dark"})


class TimezoneIn(StrictInput):
    model_config = examples({"timezone": "Europe/Paris"})

    timezone: TimeZone = Field(description="an IANA time zone name")


class ConfirmIn(StrictInput):
    """The account's password, or (for an account without one) the proof from verifying a
    `verify_contact` code sent to its own email or phone while signed in."""

    model_config = examples({"password": "correct-horse-9"}, {"proof": "pr_9Xk2mQ7vL4sT8wZ1"})

    password: PasswordInput | None = None
    proof: OpaqueToken | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.password is None) == (self.proof is None):
            raise ValueError("give either password or proof")
        return self
