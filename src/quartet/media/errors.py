from __future__ import annotations

from quartet.core.errors import AppError, NotFoundError, PayloadTooLargeError, ValidationFailedError


class MediaNotFoundError(NotFoundError):
    message = "Media not found"


class MediaTooLargeError(PayloadTooLargeError):
    code = "media_too_large"
    message = "The file is larger than the upload limit"


class UnsupportedMediaError(AppError):
    """The bytes are not one of the allowed kinds, whatever the name or header claimed."""

    status_code = 415
    code = "unsupported_media_type"
    message = "This type of file is not accepted"


class InvalidImageError(ValidationFailedError):
    code = "invalid_image"
    message = "The image could not be decoded"


class ImageTooLargeError(ValidationFailedError):
    code = "image_too_large"
    message = "The image has too many pixels"


class InvalidUploadError(ValidationFailedError):
    code = "invalid_upload"
    message = 'Send one multipart part named `file`, or JSON {"url": ...}'


class UrlNotAllowedError(ValidationFailedError):
    """SSRF guard: the URL or an address it resolves to (or redirects to) is not public."""

    code = "url_not_allowed"
    message = "This URL cannot be fetched"


class FetchFailedError(AppError):
    status_code = 502
    code = "fetch_failed"
    message = "The URL could not be fetched"


class InvalidLinkError(AppError):
    status_code = 403
    code = "invalid_link"
    message = "The link is invalid or has expired"


class RangeNotSatisfiableError(AppError):
    status_code = 416
    code = "range_not_satisfiable"
    message = "Requested range not satisfiable"
