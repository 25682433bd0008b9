"""`/settings`: the signed-in user's own account settings."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from quartet.account.dependencies import AccountClosureDep, ContactChangesDep, ProfileServiceDep
from quartet.account.errors import (
    ConfirmationFailedError,
    PictureNotAllowedError,
    UnsupportedLanguageError,
)
from quartet.account.profile_schemas import (
    AccessibilityIn,
    ConfirmIn,
    LanguageIn,
    PictureIn,
    ProfileOut,
    ProfileUpdate,
    PublicProfileOut,
    SettingsOut,
    ThemeIn,
    TimezoneIn,
)
from quartet.account.schemas import ChangeContactIn
from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, Meta
from quartet.core.errors import ConflictError, RateLimitedError, responses
from quartet.core.rate_limit import AuthRateLimit
from quartet.erasure.schemas import ErasureOut
from quartet.rbac.errors import UserNotFoundError
from quartet.stores.dependencies import DbSession, TransactionRunnerDep
from quartet.users.errors import IdentifierTakenError
from quartet.users.schemas import UserPublic
from quartet.verification.errors import InvalidProofError
from quartet.verification.schemas import CodePurpose

router = APIRouter(
    prefix="/settings", tags=["settings"], responses=responses(*AUTHENTICATION_ERRORS)
)
CHANGE_ERRORS = responses(InvalidProofError, ConflictError, RateLimitedError)


@router.post("/change-email", responses=CHANGE_ERRORS, dependencies=[AuthRateLimit])
async def change_email(
    body: ChangeContactIn,
    user: CurrentUser,
    changes: ContactChangesDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> UserPublic:
    """Switch to the new email proven by a `change_email` code (it becomes verified); the old
    address is told."""
    return await changes.change(tx, user, CodePurpose.CHANGE_EMAIL, body.proof, meta)


@router.post("/change-phone", responses=CHANGE_ERRORS, dependencies=[AuthRateLimit])
async def change_phone(
    body: ChangeContactIn,
    user: CurrentUser,
    changes: ContactChangesDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> UserPublic:
    """Switch to the new phone proven by a `change_phone` code (it becomes verified); the
    account's email is told."""
    return await changes.change(tx, user, CodePurpose.CHANGE_PHONE, body.proof, meta)


# -- profile and settings (issue 18) ---------------------------------------------------------

CHANGED = responses(UserNotFoundError)


@router.get("", responses=CHANGED, summary="All of my settings")
async def my_settings(user: CurrentUser, profiles: ProfileServiceDep, db: DbSession) -> SettingsOut:
    """Profile, language, theme, time zone and privacy settings of the signed-in user."""
    return await profiles.settings(db, user)


@router.get("/profile", responses=CHANGED, summary="My profile")
async def my_profile(user: CurrentUser, profiles: ProfileServiceDep, db: DbSession) -> ProfileOut:
    """The signed-in user's full profile, private fields included."""
    return await profiles.own(db, user)


@router.get(
    "/profile/{user_id}",
    responses=CHANGED,
    summary="Another user's public profile (private ones: 404, except with users.read)",
)
async def public_profile(
    user_id: uuid.UUID, user: CurrentUser, profiles: ProfileServiceDep, db: DbSession
) -> PublicProfileOut:
    """A public profile; a private one (or an unknown id) is the same 404 unless the caller holds
    users.read."""
    return await profiles.public(db, user, user_id)


@router.put(
    "/profile",
    responses=responses(UserNotFoundError, IdentifierTakenError),
    summary="Update my name, username, bio or country",
)
async def update_profile(
    body: ProfileUpdate, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> ProfileOut:
    """Changes only the fields given; a username already taken is a 409."""
    return await profiles.change_profile(user, body.changes(), "profile.updated", meta)


@router.post(
    "/profile-picture",
    responses=responses(UserNotFoundError, PictureNotAllowedError),
    summary="Set my profile picture to an image I uploaded (POST /media), or remove it",
)
async def set_profile_picture(
    body: PictureIn, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> ProfileOut:
    """Points the profile at one of the caller's own uploaded images, or removes it with null."""
    changes = {"profile_picture_id": body.media_id}
    return await profiles.change_profile(user, changes, "profile.picture_changed", meta)


@router.post(
    "/profile-accessibility",
    responses=CHANGED,
    summary="Public or private profile, and what others see of it",
)
async def set_profile_accessibility(
    body: AccessibilityIn, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> ProfileOut:
    """Makes the profile public or private and picks which fields others see."""
    changes = body.changes()
    return await profiles.change_profile(user, changes, "profile.accessibility_changed", meta)


@router.post(
    "/profile-language",
    responses=responses(UserNotFoundError, UnsupportedLanguageError),
    summary="My language: a BCP-47 tag among SUPPORTED_LANGUAGES",
)
async def set_language(
    body: LanguageIn, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> SettingsOut:
    """Sets the account's language; a tag outside SUPPORTED_LANGUAGES is a 422
    `unsupported_language`."""
    changes = {"language": profiles.language(body.language)}
    return await profiles.change_settings(user, changes, "settings.language", meta)


@router.post("/update-theme", responses=CHANGED, summary="light, dark or system")
async def set_theme(
    body: ThemeIn, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> SettingsOut:
    """Sets the interface theme the SPA shows."""
    return await profiles.change_settings(user, {"theme": body.theme}, "settings.theme", meta)


@router.post(
    "/update-timezone",
    responses=CHANGED,
    summary="My time zone (an IANA name; the dashboard's dates follow it)",
)
async def set_timezone(
    body: TimezoneIn, user: CurrentUser, profiles: ProfileServiceDep, meta: Meta
) -> SettingsOut:
    """Sets the IANA time zone dates are shown in; an unknown zone is a 422."""
    changes = {"timezone": body.timezone}
    return await profiles.change_settings(user, changes, "settings.timezone", meta)


CLOSE_ERRORS = responses(UserNotFoundError, ConfirmationFailedError, RateLimitedError)


@router.post(
    "/deactivate-account",
    responses=CLOSE_ERRORS,
    dependencies=[AuthRateLimit],
    summary="Deactivate my account: every session ends; login is refused until an "
    "administrator restores it",
)
async def deactivate_account(
    body: ConfirmIn,
    user: CurrentUser,
    closure: AccountClosureDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> ProfileOut:
    """Needs the current password (or a fresh proof); ends every session at once."""
    return ProfileOut.model_validate(await closure.deactivate(tx, user, body, meta))


@router.post(
    "/delete-account",
    status_code=status.HTTP_202_ACCEPTED,
    responses=CLOSE_ERRORS,
    dependencies=[AuthRateLimit],
    summary="Delete my account from every store (stores that are down are cleaned later)",
)
async def delete_account(
    body: ConfirmIn,
    user: CurrentUser,
    closure: AccountClosureDep,
    tx: TransactionRunnerDep,
    meta: Meta,
) -> ErasureOut:
    """Needs the current password (or a fresh proof); the account is erased from every store, now
    or, for a store that is down, by the erasure worker."""
    return ErasureOut.model_validate(await closure.delete(tx, user, body, meta))
