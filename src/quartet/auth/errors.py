from __future__ import annotations

from quartet.core.errors import AppError, RetryLaterError, UnauthorizedError


class InvalidCredentialsError(UnauthorizedError):
    """Same status and body for an unknown identifier and a wrong password."""

    code, message = "invalid_credentials", "Incorrect login or password"


class InvalidTokenError(UnauthorizedError):
    code, message = "invalid_token", "Invalid, expired or revoked token"


class SessionIdleTimeoutError(UnauthorizedError):
    """SESSION_IDLE_LOGOUT: the user's activity session expired (or was deleted)."""

    code, message = "session_idle_timeout", "Session ended after inactivity; log in again"


class InvalidRefreshTokenError(UnauthorizedError):
    code, message = "invalid_refresh_token", "Invalid, expired or revoked refresh token"


class AccountLockedError(RetryLaterError):
    status_code, code = 423, "account_locked"
    message = "Too many failed login attempts; try again later"


class WeakPasswordError(AppError):
    status_code, code, message = 422, "weak_password", "Password does not meet the policy"


class AccountDeactivatedError(AppError):
    """Only after the right password: a stranger learns nothing about the account."""

    status_code, code = 403, "account_deactivated"
    message = "This account is deactivated; an administrator can restore it"
