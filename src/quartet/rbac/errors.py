from __future__ import annotations

from quartet.core.errors import ConflictError, ForbiddenError, NotFoundError


class PermissionDeniedError(ForbiddenError):
    """403 naming the permission the caller lacks."""

    code = "permission_denied"
    message = "A permission this action requires is missing"

    def __init__(self, codename: str | None = None) -> None:
        super().__init__(f"Requires the permission {codename}" if codename else None)


class PermissionNotFoundError(NotFoundError):
    message = "Permission not found"


class GroupNotFoundError(NotFoundError):
    message = "Group not found"


class UserNotFoundError(NotFoundError):
    """Also what a caller gets for another user they may not see: existence is not disclosed."""

    message = "User not found"


class SystemGroupError(ConflictError):
    code = "system_group"
    message = "System groups cannot be deleted or renamed"


class DeclaredPermissionError(ConflictError):
    code = "declared_permission"
    message = "This permission is checked by the code: it cannot be deleted or renamed"


class CodenameTakenError(ConflictError):
    code = "codename_taken"
    message = "That codename is already in use"
