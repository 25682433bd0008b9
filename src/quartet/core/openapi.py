"""The OpenAPI document as a client generator reads it: readable operation ids, and one model
per error code, the errors of one status combined as a `oneOf` discriminated by `error`.

Routes declare their errors with `quartet.core.errors.responses`; `install` completes FastAPI's
document: it folds them per status, puts the project's 422 (`ValidationError`, with `fields`) in
place of FastAPI's `HTTPValidationError`, and adds the 413 every request body may meet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from quartet.core.errors import (
    AppError,
    PayloadTooLargeError,
    ValidationFailedError,
    component_name,
    defined_errors,
    error_ref,
)

_REF_TEMPLATE = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
OPERATION_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[^a-z0-9]+", text.lower()) if word]


def operation_id(route: APIRoute) -> str:
    """`<tag>-<route name>`, the tag's words dropped from the name: `create_product` under
    "shop: products" is `shop-products-create`, `login` under "auth" is `auth-login`."""
    tag = _words(str(route.tags[0])) if route.tags else []
    redundant = set(tag) | {word.removesuffix("s") for word in tag}
    name = [word for word in _words(route.name) if word not in redundant]
    return "-".join(tag + name) or "-".join(_words(route.name))


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the completed document (built once, then cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document with each status's errors folded and their models in the components."""
    operations = [
        operation
        for path in document.get("paths", {}).values()
        for method, operation in path.items()
        if method in _METHODS
    ]
    _check_unique_ids(operations)
    used: set[str] = set()
    for operation in operations:
        _add_framework_errors(operation)
        for status, response in operation.get("responses", {}).items():
            if not status.startswith("2"):
                used |= _fold(response)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    schemas.update(_error_schemas(used))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def snapshot(document: dict[str, Any]) -> str:
    """The committed `openapi.json`'s text: stable key order, one trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _check_unique_ids(operations: Iterable[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for operation in operations:
        operation_id = operation["operationId"]
        if operation_id in seen:
            raise ValueError(f"two operations have the id {operation_id!r}; rename a route")
        seen.add(operation_id)


def _add_framework_errors(operation: dict[str, Any]) -> None:
    """What the app answers before a route runs: 422 for any input, 413 for any body."""
    responses = operation.setdefault("responses", {})
    validated = "parameters" in operation or "requestBody" in operation
    fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if fastapi_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    if validated:
        _declare(responses, ValidationFailedError)
    if "requestBody" in operation:
        _declare(responses, PayloadTooLargeError)


def _declare(responses: dict[str, Any], error: type[AppError]) -> None:
    response = responses.setdefault(str(error.status_code), {"description": error.message})
    schema = response.setdefault("content", {}).setdefault("application/json", {})
    schema.setdefault("schema", {}).setdefault("oneOf", []).append({"$ref": error_ref(error.code)})


def _fold(response: dict[str, Any]) -> set[str]:
    """One status's errors: sorted, each once, discriminated by `error`; returns their codes."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    codes = sorted({one["$ref"].rsplit("/", 1)[1] for one in schema.get("oneOf", [])})
    if not codes:
        return set()
    errors = defined_errors()
    by_name = {component_name(code): code for code in errors}
    found = sorted(by_name[name] for name in codes)
    schema["oneOf"] = [{"$ref": error_ref(code)} for code in found]
    schema["discriminator"] = {
        "propertyName": "error",
        "mapping": {code: error_ref(code) for code in found},
    }
    if len(found) == 1:
        response["description"] = errors[found[0]].message
    else:
        response["description"] = "One of: " + "; ".join(
            f"`{code}`: {errors[code].message}" for code in found
        )
    return set(found)


def _error_schemas(codes: set[str]) -> dict[str, Any]:
    errors = defined_errors()
    models = [errors[code].schema() for code in sorted(codes)]
    _, top = models_json_schema(
        [(model, "serialization") for model in models], ref_template=_REF_TEMPLATE
    )
    return dict(top.get("$defs", {}))
