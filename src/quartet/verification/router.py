"""`/auth` endpoints of the account lifecycle: email links, one-time codes, passwords.

Every route here counts against the auth rate limit. Answers that could reveal whether an
account exists (forgot-password, resend-verification, send-one-time-password) are the same
202 for every identifier.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, status

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, Meta, OptionalUser
from quartet.auth.errors import WeakPasswordError
from quartet.auth.schemas import TokenResponse
from quartet.auth.transport import TokenDeliveryDep
from quartet.core.errors import (
    ConflictError,
    ValidationFailedError,
    responses,
)
from quartet.core.rate_limit import auth_limited_router
from quartet.stores.dependencies import TransactionRunnerDep
from quartet.users.schemas import UserPublic
from quartet.verification.dependencies import (
    CodeFlowsDep,
    LinkFlowsDep,
    OneTimeCodesDep,
    PasswordsDep,
)
from quartet.verification.errors import (
    ChannelUnavailableError,
    InvalidCodeError,
    InvalidLinkTokenError,
    InvalidProofError,
    PasswordAlreadySetError,
    WrongPasswordError,
)
from quartet.verification.schemas import (
    Accepted,
    ChangePasswordIn,
    CodeSent,
    EmailIn,
    ForgetPasswordIn,
    ProofIn,
    ProofOut,
    ResendVerificationIn,
    ResetPasswordIn,
    SendCodeIn,
    SetPasswordIn,
    SignupIn,
    TokenIn,
    VerifyCodeIn,
    VerifyContactsIn,
)
from quartet.verification.throttle import SEND_ERRORS

router = auth_limited_router(prefix="/auth", tags=["auth"])
NO_CONTENT = status.HTTP_204_NO_CONTENT
ACCEPTED = status.HTTP_202_ACCEPTED

# -- email links ---------------------------------------------------------------------------


@router.post("/verify-email", status_code=NO_CONTENT, responses=responses(InvalidLinkTokenError))
async def verify_email(
    body: TokenIn, flows: LinkFlowsDep, tx: TransactionRunnerDep, meta: Meta
) -> None:
    """Confirm the address with the token from the verification link."""
    await flows.verify_email(tx, body.token, meta)


@router.post(
    "/resend-verification",
    status_code=ACCEPTED,
    responses=responses(*SEND_ERRORS, *AUTHENTICATION_ERRORS, ValidationFailedError),
)
async def resend_verification(
    user: OptionalUser,
    flows: LinkFlowsDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    body: Annotated[ResendVerificationIn | None, Body()] = None,
) -> Accepted:
    """A new verification link (older ones stop working): signed in (no body needed), or for
    `email`."""
    email = str(body.email) if body and body.email else None
    await flows.resend_verification(tx, user, email, meta)
    return Accepted()


@router.post("/forgot-password", status_code=ACCEPTED, responses=responses(*SEND_ERRORS))
async def forgot_password(
    body: EmailIn, flows: LinkFlowsDep, tx: TransactionRunnerDep, meta: Meta
) -> Accepted:
    """Email a password-reset link, if an account has this address."""
    await flows.forgot_password(tx, str(body.email), meta)
    return Accepted()


@router.post(
    "/reset-password",
    status_code=NO_CONTENT,
    responses=responses(InvalidLinkTokenError, WeakPasswordError),
)
async def reset_password(
    body: ResetPasswordIn, flows: LinkFlowsDep, tx: TransactionRunnerDep, meta: Meta
) -> None:
    """Set a new password with the token from the reset link; every session of the user ends."""
    await flows.reset_password(tx, body.token, body.new_password, meta)


# -- one-time codes ------------------------------------------------------------------------


@router.post(
    "/send-one-time-password",
    status_code=ACCEPTED,
    responses=responses(*SEND_ERRORS, ChannelUnavailableError, *AUTHENTICATION_ERRORS),
)
async def send_one_time_password(
    body: SendCodeIn,
    user: OptionalUser,
    codes: OneTimeCodesDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> CodeSent:
    """Send a 6-digit code by email, SMS or WhatsApp. change_email and change_phone need a
    signed-in user; the answer is the same whether or not an account has the identifier."""
    await codes.send(tx, body, user, meta)
    s = codes.settings
    return CodeSent(expires_in=s.OTP_TTL_SECONDS, resend_after=s.OTP_RESEND_COOLDOWN_SECONDS)


@router.post("/verify-one-time-password", responses=responses(InvalidCodeError))
async def verify_one_time_password(
    body: VerifyCodeIn, codes: OneTimeCodesDep, tx: TransactionRunnerDep, meta: Meta
) -> ProofOut:
    """Trade a code for a short-lived single-use proof, which the purpose's next call takes."""
    return await codes.verify(tx, body, meta)


@router.post("/login-with-otp", responses=responses(InvalidProofError))
async def login_with_otp(
    body: ProofIn,
    flows: CodeFlowsDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
) -> TokenResponse:
    """Log in with a `login` proof: the same tokens, session and cookies as `/login`."""
    return issue.send(await flows.login(tx, body.proof, meta))


@router.post(
    "/verify",
    status_code=status.HTTP_201_CREATED,
    responses=responses(InvalidProofError, ConflictError, ValidationFailedError),
)
async def signup_with_code(
    body: SignupIn,
    flows: CodeFlowsDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
) -> TokenResponse:
    """Sign up with a `signup` proof: an account without a password, its contact verified,
    logged in (tokens delivered as `/login` delivers them)."""
    return issue.send(await flows.signup(tx, body, meta))


@router.post(
    "/forget-password",
    status_code=NO_CONTENT,
    responses=responses(InvalidProofError, WeakPasswordError),
)
async def forget_password(
    body: ForgetPasswordIn, flows: CodeFlowsDep, tx: TransactionRunnerDep, meta: Meta
) -> None:
    """Reset the password with a `reset_password` proof; every session of the user ends."""
    await flows.reset_password(tx, body.proof, body.new_password, meta)


@router.post("/verify-email-and-phone", responses=responses(InvalidProofError))
async def verify_email_and_phone(
    body: VerifyContactsIn, flows: CodeFlowsDep, tx: TransactionRunnerDep, meta: Meta
) -> UserPublic:
    """Mark the account's email and/or phone verified with `verify_contact` proofs."""
    return await flows.verify_contacts(tx, body, meta)


# -- passwords of a signed-in user ---------------------------------------------------------


@router.post(
    "/set-password",
    status_code=NO_CONTENT,
    responses=responses(*AUTHENTICATION_ERRORS, PasswordAlreadySetError, WeakPasswordError),
)
async def set_password(
    body: SetPasswordIn,
    user: CurrentUser,
    passwords: PasswordsDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> None:
    """Give a password to an account that has none (signed up by code or OAuth)."""
    await passwords.set_password(tx, user, body.new_password, meta)


@router.post(
    "/change-password",
    status_code=NO_CONTENT,
    responses=responses(*AUTHENTICATION_ERRORS, WrongPasswordError, WeakPasswordError),
)
async def change_password(
    body: ChangePasswordIn,
    user: CurrentUser,
    passwords: PasswordsDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> None:
    """Change the password; every other session of the user ends."""
    await passwords.change_password(tx, user, body.current_password, body.new_password, meta)
