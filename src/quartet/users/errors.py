from __future__ import annotations

from quartet.core.errors import ConflictError, ForbiddenError


class IdentifierTakenError(ConflictError):
    code = "identifier_taken"

    def __init__(self, field: str) -> None:
        super().__init__(f"That {field} is already registered")


class SuperuserOnlyError(ForbiddenError):
    code = "superuser_only"
    message = "Only a superuser may do this to a superuser's account"
