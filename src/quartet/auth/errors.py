from __future__ import annotations

from quartet.core.errors import AppError, RetryLaterError, UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    """Same status and body for an unknown identifier and a wrong password."""

    code = "invalid_credentials"
    message = "Incorrect login or password"


class InvalidTokenError(UnauthorizedError):
    code = "invalid_token"
    message = "Invalid, expired or revoked token"


class SessionIdleTimeoutError(UnauthorizedError):
    """SESSION_IDLE_LOGOUT: the user's activity session expired (or was deleted)."""

    code = "session_idle_timeout"
    message = "Session ended after inactivity; log in again"


class InvalidRefreshTokenError(UnauthorizedError):
    code = "invalid_refresh_token"
    message = "Invalid, expired or revoked refresh token"


class AccountLockedError(RetryLaterError):
    status_code = 423
    code = "account_locked"
    message = "Too many failed login attempts; try again later"


class WeakPasswordError(AppError):
    status_code = 422
    code = "weak_password"
    message = "Password does not meet the policy"


class AccountDeactivatedError(AppError):
    """Only after the right password: a stranger learns nothing about the account."""

    status_code = 403
    code = "account_deactivated"
    message = "This account is deactivated; an administrator can restore it"
