from __future__ import annotations

from collections.abc import Sequence

from quartet.core.errors import ForbiddenError, ValidationFailedError


class PictureNotAllowedError(ValidationFailedError):
    """The same answer for an unknown media id, another user's and one that is no image."""

    code = "invalid_picture"
    message = "The profile picture must be an image you uploaded"


class UnsupportedLanguageError(ValidationFailedError):
    code = "unsupported_language"
    message = "That language is not supported"

    def __init__(self, supported: Sequence[str] = ()) -> None:
        listed = f"; supported: {', '.join(supported)}" if supported else ""
        super().__init__(f"That language is not supported{listed}")


class ConfirmationFailedError(ForbiddenError):
    """A wrong password, or a proof that is not the caller's: the account stays as it is."""

    code = "confirmation_failed"
    message = "Could not confirm it is you; nothing was changed"
