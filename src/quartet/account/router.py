"""`/settings`: the signed-in user's own account settings."""

from __future__ import annotations

from fastapi import APIRouter

from quartet.account.dependencies import ContactChangesDep
from quartet.account.schemas import ChangeContactIn
from quartet.auth.dependencies import CurrentUser, Meta
from quartet.auth.errors import InvalidTokenError
from quartet.core.errors import ConflictError, RateLimitedError, responses
from quartet.core.rate_limit import AuthRateLimit
from quartet.stores.dependencies import Transactions
from quartet.users.schemas import UserPublic
from quartet.verification.errors import InvalidProofError
from quartet.verification.schemas import CodePurpose

router = APIRouter(prefix="/settings", tags=["settings"])
CHANGE_ERRORS = responses(InvalidTokenError, InvalidProofError, ConflictError, RateLimitedError)


@router.post(
    "/change-email",
    response_model=UserPublic,
    responses=CHANGE_ERRORS,
    dependencies=[AuthRateLimit],
)
async def change_email(
    body: ChangeContactIn,
    user: CurrentUser,
    changes: ContactChangesDep,
    tx: Transactions,
    meta: Meta,
) -> UserPublic:
    """Switch to the new email proven by a `change_email` code (it becomes verified); the old
    address is told."""
    return await changes.change(tx, user, CodePurpose.CHANGE_EMAIL, body.proof, meta)


@router.post(
    "/change-phone",
    response_model=UserPublic,
    responses=CHANGE_ERRORS,
    dependencies=[AuthRateLimit],
)
async def change_phone(
    body: ChangeContactIn,
    user: CurrentUser,
    changes: ContactChangesDep,
    tx: Transactions,
    meta: Meta,
) -> UserPublic:
    """Switch to the new phone proven by a `change_phone` code (it becomes verified); the
    account's email is told."""
    return await changes.change(tx, user, CodePurpose.CHANGE_PHONE, body.proof, meta)
