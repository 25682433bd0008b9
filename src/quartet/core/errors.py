"""One error hierarchy and one response shape: `{"error": code, "detail": message, "request_id"}`.

Services raise `AppError` subclasses; the handlers installed by `install_error_handlers` render
them, and also render FastAPI's own 404/405/422 and any unhandled exception (500, no traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from quartet.core.request_context import request_id_var

logger = logging.getLogger(__name__)


class AppError(Exception):
    """A failure the client should see, with a stable machine-readable code."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "Bad request"

    def __init__(
        self, message: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.message = message or self.message
        self.headers = dict(headers or {})
        super().__init__(self.message)


class NotFoundError(AppError):
    status_code, code, message = 404, "not_found", "Not found"


class ConflictError(AppError):
    status_code, code, message = 409, "conflict", "Conflict"


class UnauthorizedError(AppError):
    status_code, code, message = 401, "unauthorized", "Not authenticated"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(AppError):
    status_code, code, message = 403, "forbidden", "Not allowed"


class PayloadTooLargeError(AppError):
    status_code, code, message = 413, "payload_too_large", "Request body too large"


class ValidationFailedError(AppError):
    """A business-level validation failure outside the request model (still a 422)."""

    status_code, code, message = 422, "validation_error", "Invalid input"


class RateLimitedError(AppError):
    status_code, code, message = 429, "rate_limited", "Too many requests"


class StoreUnavailableError(AppError):
    """A datastore could not be reached: 503, naming the store, never a traceback."""

    status_code, code = 503, "store_unavailable"

    def __init__(self, store: str, message: str | None = None) -> None:
        self.store = store
        super().__init__(
            message or f"{store} is unavailable; try again shortly", headers={"Retry-After": "5"}
        )


class ErrorBody(BaseModel):
    """The error format every non-2xx answer uses (declared on routes for OpenAPI)."""

    error: str
    detail: str
    request_id: str | None = None
    fields: list[dict[str, Any]] | None = None


def error_response(
    status_code: int,
    code: str,
    detail: str,
    /,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "detail": detail, "request_id": request_id_var.get()}
    body.update(extra)
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route from the AppErrors it may raise."""
    return {
        e.status_code: {"model": ErrorBody, "description": e.message if e.message else e.code}
        for e in errors
    }


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in errors
    ]


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        logger.warning("%s: %s", exc.code, exc.message)
    return error_response(exc.status_code, exc.code, exc.message, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a body that is not JSON with a 422 but one that is not even UTF-8
        # with a 400: both are a malformed payload, so both get the validation answer.
        malformed = {"type": "json_invalid", "loc": ("body",), "msg": "JSON body is not UTF-8"}
        return await _validation_error(request, RequestValidationError([malformed]))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, detail, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = _field_errors(exc.errors())
    first = fields[0] if fields else {"loc": [], "msg": "invalid"}
    where = ".".join(str(p) for p in first["loc"])
    return error_response(422, "validation_error", f"{where}: {first['msg']}", fields=fields)


def internal_error_response() -> JSONResponse:
    return error_response(500, "internal_error", "An unexpected error occurred")


def install_error_handlers(
    app: FastAPI, translations: Mapping[type[Exception], Callable[[Exception], AppError]]
) -> None:
    """Render every error in one format; `translations` map driver errors (e.g. a store being
    unreachable) to AppErrors without this module importing any driver. Unhandled exceptions
    are rendered by `UnhandledErrorMiddleware`, inside the request-id middleware."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    for exc_type, translate in translations.items():

        async def _translated(
            request: Request, exc: Exception, translate: Callable[[Exception], AppError] = translate
        ) -> JSONResponse:
            # `translate` re-raises what is not an outage; UnhandledErrorMiddleware renders it.
            return await _app_error(request, translate(exc))

        app.add_exception_handler(exc_type, _translated)
