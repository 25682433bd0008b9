from __future__ import annotations

from quartet.core.errors import ConflictError, NotFoundError


class ActivitySessionNotFoundError(NotFoundError):
    code, message = "session_not_found", "No active session for this user (absent or expired)"


class ActivitySessionExistsError(ConflictError):
    code, message = "session_exists", "This user already has an active session; PUT refreshes it"


class UserNotFoundError(NotFoundError):
    code, message = "user_not_found", "No active user with this id"
