from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from quartet.auth.csrf import CsrfError
from quartet.auth.dependencies import AUTHENTICATION_ERRORS, AuthServiceDep, CurrentUser, Meta
from quartet.auth.errors import (
    AccountDeactivatedError,
    AccountLockedError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    WeakPasswordError,
)
from quartet.auth.request_state import CallerCache
from quartet.auth.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    LoginIn,
    RefreshIn,
    RegisterIn,
    RevokedOut,
    SessionOut,
    TokenResponse,
)
from quartet.auth.transport import RefreshCookie, TokenDeliveryDep
from quartet.core.errors import ConflictError, NotFoundError, responses
from quartet.core.rate_limit import auth_limited_router
from quartet.stores.dependencies import DbSession, TransactionRunnerDep
from quartet.users.cache import ProfileCache
from quartet.users.schemas import UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])
limited = auth_limited_router()
signed_in = APIRouter(responses=responses(*AUTHENTICATION_ERRORS))
LOGIN_ERRORS = responses(InvalidCredentialsError, AccountLockedError, AccountDeactivatedError)


@limited.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=responses(ConflictError, WeakPasswordError),
)
async def register(
    body: RegisterIn, service: AuthServiceDep, tx: TransactionRunnerDep, meta: Meta
) -> UserPublic:
    """Creates an account from an email, username or phone and a password that meets the policy;
    an email, username or phone already registered is a 409."""
    return UserPublic.model_validate(await service.register(tx, body, meta))


@limited.post("/login", responses=LOGIN_ERRORS)
async def login(
    body: LoginIn,
    service: AuthServiceDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
) -> TokenResponse:
    """Exchanges an identifier (email, username or phone) and a password for an access and a
    refresh token (in the body, or as httpOnly cookies for a browser). Repeated failures lock
    the account for a while (423)."""
    field, identifier = body.identifier
    return issue.send(await service.login(tx, field, identifier, body.password, meta))


@limited.post(
    "/token",
    responses=LOGIN_ERRORS,
    summary="OAuth2 password form (Swagger's Authorize); username may be an email or phone",
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    service: AuthServiceDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
) -> TokenResponse:
    """The same login as `POST /auth/login` in the OAuth2 password form that Swagger's Authorize
    button sends."""
    try:
        login_form = LoginIn.model_validate(
            _identifier_field(form.username) | {"password": form.password}
        )
    except ValidationError as error:  # a malformed identifier is just a failed login
        raise InvalidCredentialsError() from error
    return await login(login_form, service, tx, meta, issue)


def _identifier_field(value: str) -> dict[str, str]:
    if "@" in value:
        return {"email": value}
    if value.lstrip("+").replace(" ", "").isdigit():
        return {"phone": value}
    return {"username": value}


@limited.post(
    "/refresh",
    responses=responses(InvalidRefreshTokenError, CsrfError),
    summary="Rotate the refresh token given in the body, or else in the refresh_token cookie",
)
async def refresh(
    service: AuthServiceDep,
    tx: TransactionRunnerDep,
    meta: Meta,
    issue: TokenDeliveryDep,
    cookie: RefreshCookie = None,
    body: RefreshIn | None = None,
) -> TokenResponse:
    """Rotates a refresh token: the old one stops working and a new pair is issued; a cookie
    refresh must carry the CSRF header."""
    presented = issue.refresh_credential(body.refresh_token if body else None, cookie)
    tokens = await service.refresh(tx, presented.token, meta, session_id=presented.csrf_session)
    return issue.send(tokens, in_body=presented.in_body)


@limited.post("/check-availability")
async def check_availability(
    body: AvailabilityIn, service: AuthServiceDep, db: DbSession
) -> AvailabilityOut:
    """Whether an email, username or phone is free for sign-up (rate limited)."""
    field, value = body.identifier
    return AvailabilityOut(field=field, available=await service.availability(db, field, value))


@signed_in.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    user: CurrentUser, service: AuthServiceDep, db: DbSession, meta: Meta, issue: TokenDeliveryDep
) -> None:
    """Revokes the caller's session (its access and refresh tokens) and clears the auth cookies."""
    await service.logout(db, user, meta)
    issue.clear()


@signed_in.post("/logout-everywhere")
async def logout_everywhere(
    user: CurrentUser, service: AuthServiceDep, db: DbSession, meta: Meta, issue: TokenDeliveryDep
) -> RevokedOut:
    """Revokes every session of the caller, on every device, and clears the auth cookies here."""
    revoked = await service.logout_everywhere(db, user, meta)
    issue.clear()
    return RevokedOut(revoked=revoked)


@signed_in.get(
    "/me",
    dependencies=[CallerCache(ProfileCache.name)],  # the profile rides the token check's trip
)
async def me(user: CurrentUser, service: AuthServiceDep, db: DbSession) -> UserPublic:
    """The signed-in user's public account fields."""
    return await service.me(db, user)


@signed_in.get("/sessions")
async def sessions(user: CurrentUser, service: AuthServiceDep, db: DbSession) -> list[SessionOut]:
    """The caller's login sessions (device, IP, last use), newest first."""
    return await service.sessions(db, user)


@signed_in.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(NotFoundError),
)
async def revoke_session(
    session_id: uuid.UUID, user: CurrentUser, service: AuthServiceDep, db: DbSession, meta: Meta
) -> None:
    """Revokes one of the caller's own sessions; another user's session id is a 404."""
    await service.revoke_session(db, user, session_id, meta)


router.include_router(signed_in)
router.include_router(limited)
