"""One error hierarchy and one response shape: `{"error": code, "detail": message, "request_id"}`.

Services raise `AppError` subclasses; the handlers installed by `install_error_handlers` render
them, and also render FastAPI's own 404/405/422 and any unhandled exception (500, no traceback).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Literal, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, JsonValue, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from quartet.core.request_context import request_id_var

logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One rejected input of a 422: where (`loc`), why (`msg`) and pydantic's error `type`."""

    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(BaseModel):
    """The body a 422 adds when the request model itself rejected the input."""

    fields: list[FieldError] | None = Field(
        default=None, description="Each rejected input; absent when a service refused it"
    )


class AppError(Exception):
    """A failure the client should see, with a stable machine-readable code.

    Each code has one documented body model (`schema()`): a subclass that sets its own `code`
    defines it; one that keeps its parent's code shares the parent's model. `body` models the
    extra fields the error adds to the body (given to `__init__` as `extra`) and `body_example`
    shows them; `documented_headers` names the response headers the error sets.
    """

    status_code: int = 400
    code: str = "bad_request"
    message: str = "Bad request"
    body: ClassVar[type[BaseModel] | None] = None
    body_example: ClassVar[Mapping[str, JsonValue]] = {}
    documented_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.message)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in vars(cls):
            _register_code(cls)

    @classmethod
    def schema(cls) -> type[BaseModel]:
        """The pydantic model of this error's body, named after its code (`OutOfStockError`)."""
        owner = _CODE_OWNERS[cls.code]
        if owner not in _MODELS:
            _MODELS[owner] = _error_model(owner)
        return _MODELS[owner]


_CODE_OWNERS: dict[str, type[AppError]] = {AppError.code: AppError}
_MODELS: dict[type[AppError], type[BaseModel]] = {}


def _register_code(cls: type[AppError]) -> None:
    """One class defines each code (re-stating an ancestor's code is not a new definition)."""
    owner = _CODE_OWNERS.setdefault(cls.code, cls)
    if owner is not cls and not issubclass(cls, owner):
        raise TypeError(f"error code {cls.code!r} is defined by both {owner!r} and {cls!r}")
    if owner is not cls and cls.status_code != owner.status_code:
        raise TypeError(f"{cls!r} gives the code {cls.code!r} another status")


def component_name(code: str) -> str:
    """`out_of_stock` -> `OutOfStockError`, `validation_error` -> `ValidationError`."""
    name = "".join(part.capitalize() for part in code.split("_"))
    return name if name.endswith("Error") else f"{name}Error"


def _error_model(owner: type[AppError]) -> type[BaseModel]:
    name = component_name(owner.code)
    model: type[BaseModel] = create_model(
        name,
        __base__=owner.body or BaseModel,
        __doc__=inspect.cleandoc(owner.__doc__ or owner.message),
        __module__=owner.__module__,
        error=(cast(Any, Literal)[owner.code], Field(description="The error code")),
        detail=(str, Field(description="A human-readable message", examples=[owner.message])),
        request_id=(
            str | None,
            Field(description="The request's X-Request-ID, to quote when reporting a problem"),
        ),
    )
    example: dict[str, JsonValue] = {
        **owner.body_example,
        "error": owner.code,
        "detail": owner.message,
        "request_id": _EXAMPLE_REQUEST_ID,
    }
    model.model_config["json_schema_extra"] = {"examples": [example]}
    model.model_rebuild(force=True)
    return model


_EXAMPLE_REQUEST_ID = "5f0c8a3e9b2d4e6f8a1c3b5d7e9f0a2b"


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found"


class ConflictError(AppError):
    status_code = 409
    code = "conflict"
    message = "Conflict"


WWW_AUTHENTICATE = {"WWW-Authenticate": "The scheme to authenticate with: `Bearer`"}


class UnauthorizedError(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Not authenticated"
    documented_headers = WWW_AUTHENTICATE

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(AppError):
    status_code = 403
    code = "forbidden"
    message = "Not allowed"


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "Request body too large"


class ValidationFailedError(AppError):
    """Invalid input: refused by the request model (the body lists `fields`), or by a service's
    own check (no `fields`)."""

    status_code = 422
    code = "validation_error"
    message = "Invalid input"
    body = FieldErrors
    body_example = MappingProxyType(
        {"fields": [{"loc": ["body", "email"], "msg": "Field required", "type": "missing"}]}
    )


RETRY_AFTER = {"Retry-After": "Seconds to wait before trying again"}


class RateLimitedError(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests"
    documented_headers = RETRY_AFTER


class RetryLaterError(AppError):
    """Base of errors raised with the seconds the client must wait (`Retry-After`, at least 1);
    put it before the base that gives the status (`class X(RetryLaterError, RateLimitedError)`)."""

    documented_headers = RETRY_AFTER

    def __init__(self, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(max(retry_after, 1))})


class StoreUnavailableError(AppError):
    """A datastore could not be reached: 503, naming the store, never a traceback."""

    status_code = 503
    code = "store_unavailable"
    message = "A datastore is unavailable; try again shortly"
    documented_headers = RETRY_AFTER

    def __init__(self, store: str, message: str | None = None) -> None:
        self.store = store
        super().__init__(
            message or f"{store} is unavailable; try again shortly", headers={"Retry-After": "5"}
        )


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


class ErrorStatus(str):
    """A `responses=` key: the status code as text, told apart by the error code.

    FastAPI merges router and route `responses=` (and the API router's) by key, so with plain
    status keys a route's 409 would hide its router's 409. With one key per (status, code) every
    declaration survives the merges; `quartet.core.openapi` folds the errors of one status into
    one `oneOf` with a discriminator on `error`.
    """

    code: str

    def __new__(cls, error: type[AppError]) -> ErrorStatus:
        key = super().__new__(cls, str(error.status_code))
        key.code = error.code
        return key

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ErrorStatus) and str.__eq__(self, other) and self.code == other.code
        )

    def __hash__(self) -> int:
        return hash((str(self), self.code))


def error_ref(code: str) -> str:
    return f"#/components/schemas/{component_name(code)}"


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route or router from the AppErrors it may raise."""
    return {ErrorStatus(error): _response(error) for error in errors}


def _response(error: type[AppError]) -> dict[str, Any]:
    error.schema()  # defined now, so a code defined twice fails at import
    schema = {"oneOf": [{"$ref": error_ref(error.code)}]}
    documented: dict[str, Any] = {
        "description": error.message,
        "content": {"application/json": {"schema": schema}},
    }
    if error.documented_headers:
        documented["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in error.documented_headers.items()
        }
    return documented


def defined_errors() -> dict[str, type[AppError]]:
    """Each defined error code and the class that defines it (its model's owner)."""
    return dict(_CODE_OWNERS)


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
    return error_response(exc.status_code, exc.code, exc.message, headers=exc.headers, **exc.extra)


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


class InternalError(AppError):
    """A bug: rendered by `EdgeMiddleware` without the exception's text."""

    status_code = 500
    code = "internal_error"
    message = "An unexpected error occurred"


def internal_error_response() -> JSONResponse:
    return error_response(InternalError.status_code, InternalError.code, InternalError.message)


def install_error_handlers(
    app: FastAPI, translations: Mapping[type[Exception], Callable[[Exception], AppError]]
) -> None:
    """Render every error in one format; `translations` map driver errors (e.g. a store being
    unreachable) to AppErrors without this module importing any driver. Unhandled exceptions
    are rendered by the edge middleware (`quartet.core.middleware`), with the request id."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    for exc_type, translate in translations.items():

        async def _translated(
            request: Request, exc: Exception, translate: Callable[[Exception], AppError] = translate
        ) -> JSONResponse:
            # `translate` re-raises what is not an outage; the edge middleware renders it.
            return await _app_error(request, translate(exc))

        app.add_exception_handler(exc_type, _translated)
