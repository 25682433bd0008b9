"""The lifecycle flows' client errors: each a clear 4xx, never a 500."""

from __future__ import annotations

from quartet.core.errors import AppError, ConflictError, RateLimitedError, RetryLaterError


class InvalidLinkTokenError(AppError):
    status_code = 400
    code = "invalid_link_token"
    message = "This link is invalid, expired or already used"


class InvalidCodeError(AppError):
    """Same answer for a wrong, expired, burnt or never-sent code."""

    status_code = 400
    code = "invalid_code"
    message = "Invalid or expired code"


class InvalidProofError(AppError):
    status_code = 400
    code = "invalid_proof"
    message = "Invalid, expired or already used proof; verify a new code"


class ResendCooldownError(RetryLaterError, RateLimitedError):
    code = "resend_cooldown"
    message = "A message was sent moments ago; wait before asking for another"


class SendLimitError(RetryLaterError, RateLimitedError):
    code = "send_limit"
    message = "Too many messages requested; try again later"


class ChannelUnavailableError(AppError):
    status_code = 422
    code = "channel_unavailable"
    message = "That delivery channel is not configured on this server"


class WrongPasswordError(AppError):
    status_code = 400
    code = "invalid_current_password"
    message = "Current password is incorrect"


class PasswordAlreadySetError(ConflictError):
    code = "password_already_set"
    message = "This account already has a password; use change-password"
