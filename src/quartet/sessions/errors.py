from __future__ import annotations

from quartet.core.errors import ConflictError, NotFoundError


class ActivitySessionNotFoundError(NotFoundError):
    code = "session_not_found"
    message = "No active session for this user (absent or expired)"


class ActivitySessionExistsError(ConflictError):
    code = "session_exists"
    message = "This user already has an active session; PUT refreshes it"


class UserNotFoundError(NotFoundError):
    code = "user_not_found"
    message = "No active user with this id"
