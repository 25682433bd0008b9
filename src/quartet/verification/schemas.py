"""Request and response bodies of the lifecycle endpoints (strict: unknown fields refused)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from quartet.auth.schemas import OpaqueToken, PasswordInput
from quartet.core.schemas import StrictInput, examples
from quartet.notifications.models import Channel
from quartet.users.schemas import Email, FullName, Phone, Username

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_PHONE: TypeAdapter[str] = TypeAdapter(Phone)


class CodePurpose(StrEnum):
    LOGIN = "login"
    SIGNUP = "signup"
    VERIFY_CONTACT = "verify_contact"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret
    CHANGE_EMAIL = "change_email"
    CHANGE_PHONE = "change_phone"


ContactKind = Literal["email", "phone"]


def normalise_identifier(value: str) -> tuple[ContactKind, str]:
    """An email (lower-cased) or a phone number (digits and an optional +)."""
    try:
        if "@" in value:
            return "email", str(_EMAIL.validate_python(value)).casefold()
        return "phone", _PHONE.validate_python(value)
    except ValidationError as error:
        raise ValueError("identifier must be an email address or a phone number") from error


class TokenIn(StrictInput):
    token: OpaqueToken

    model_config = examples({"token": "lk_5Jd8Qw2Er4Ty6Ui8"})


class EmailIn(StrictInput):
    email: Email

    model_config = examples({"email": "ada@example.com"})


class ResendVerificationIn(StrictInput):
    """Signed in: no body needed. Otherwise the account's email."""

    email: Email | None = None

    model_config = examples({"email": "ada@example.com"})


class ResetPasswordIn(TokenIn):
    new_password: PasswordInput

    model_config = examples(
        {"token": "lk_5Jd8Qw2Er4Ty6Ui8", "new_password": "a new long passphrase"}
    )


class Accepted(BaseModel):
    """The same answer whether or not the account exists."""

    detail: str = "If the account exists, a message is on its way"


class SendCodeIn(StrictInput):
    channel: Channel
    identifier: str = Field(min_length=3, max_length=254)
    purpose: CodePurpose

    @model_validator(mode="after")
    def _identifier_fits_channel(self) -> Self:
        kind, self.identifier = normalise_identifier(self.identifier)
        if (kind == "email") != (self.channel == Channel.EMAIL):
            raise ValueError("email codes go to an email address, sms and whatsapp to a phone")
        if self.purpose == CodePurpose.CHANGE_EMAIL and kind != "email":
            raise ValueError("change_email codes go to the new email address")
        if self.purpose == CodePurpose.CHANGE_PHONE and kind != "phone":
            raise ValueError("change_phone codes go to the new phone number")
        return self

    @property
    def kind(self) -> ContactKind:
        return "email" if self.channel == Channel.EMAIL else "phone"

    model_config = examples(
        {"channel": "email", "identifier": "ada@example.com", "purpose": "login"}
    )


class CodeSent(Accepted):
    expires_in: int
    resend_after: int


class VerifyCodeIn(StrictInput):
    identifier: str = Field(min_length=3, max_length=254)
    purpose: CodePurpose
    code: str = Field(pattern=r"^[0-9]{6}$")

    @field_validator("identifier")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_identifier(value)[1]

    model_config = examples({"identifier": "ada@example.com", "purpose": "login", "code": "123456"})


class ProofOut(BaseModel):
    proof: str
    purpose: CodePurpose
    expires_in: int


class ProofIn(StrictInput):
    proof: OpaqueToken

    model_config = examples({"proof": "pr_9Xk2mQ7vL4sT8wZ1"})


class SignupIn(ProofIn):
    """Sign-up by code: the proof's contact becomes the verified one. A phone sign-up still
    needs an email (every account has one); it gets a verification link."""

    email: Email | None = None
    username: Username | None = None
    full_name: FullName | None = None

    model_config = examples(
        {"proof": "pr_9Xk2mQ7vL4sT8wZ1", "username": "ada", "full_name": "Ada Lovelace"}
    )


class ForgetPasswordIn(ProofIn):
    new_password: PasswordInput

    model_config = examples(
        {"proof": "pr_9Xk2mQ7vL4sT8wZ1", "new_password": "a new long passphrase"}
    )


class VerifyContactsIn(StrictInput):
    email_proof: OpaqueToken | None = None
    phone_proof: OpaqueToken | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if not (self.email_proof or self.phone_proof):
            raise ValueError("give email_proof, phone_proof or both")
        return self

    model_config = examples({"email_proof": "pr_9Xk2mQ7vL4sT8wZ1"})


class SetPasswordIn(StrictInput):
    new_password: PasswordInput

    model_config = examples({"new_password": "a new long passphrase"})


class ChangePasswordIn(StrictInput):
    current_password: PasswordInput
    new_password: PasswordInput

    model_config = examples(
        {
            "current_password": "correct horse battery staple",
            "new_password": "a new long passphrase",
        }
    )
