"""Two kinds of failure. API answers use the AppError format; a browser inside the redirect
flow is instead sent back to the SPA with `?error=<code>` (`OAuthFlowError`), never a trace."""

from __future__ import annotations

from typing import Final

from quartet.core.errors import (
    ConflictError,
    NotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)

# Codes the SPA may receive as `?error=` on its callback page.
INVALID_STATE: Final = "invalid_state"
"""Unknown, expired or replayed state, or a browser without the cookie that started it."""
ACCESS_DENIED: Final = "access_denied"
PROVIDER_ERROR: Final = "provider_error"
PROVIDER_UNAVAILABLE: Final = "provider_unavailable"
INVALID_ID_TOKEN: Final = "invalid_id_token"  # noqa: S105 - an error code
EMAIL_REQUIRED: Final = "email_required"
ACCOUNT_EXISTS: Final = "account_exists"
"""The email belongs to an account it may not be linked to (an unverified email on either
side): the person logs in as before and links the provider from there."""
ACCOUNT_DISABLED: Final = "account_disabled"
IDENTITY_CONFLICT: Final = "identity_conflict"
"""The account already has another identity at this provider."""


class OAuthFlowError(Exception):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


class UnknownProviderError(NotFoundError):
    code = "unknown_provider"
    message = "No such login provider is configured"


class RedirectNotAllowedError(ValidationFailedError):
    code = "redirect_not_allowed"
    message = "redirect_to must be a path or a URL on an allowed frontend origin"


class InvalidExchangeCodeError(UnauthorizedError):
    code = "invalid_exchange_code"
    message = "Invalid, expired or used login code"


class LastLoginMethodError(ConflictError):
    code = "last_login_method"
    message = "This is the account's only way to log in; add another before removing it"
