"""The OpenAPI document a SPA generates its client from: every operation named, described and
tagged; every error answer one model per code, combined per status on the `error` code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from quartet.core.errors import (
    AppError,
    ConflictError,
    ValidationFailedError,
    component_name,
    defined_errors,
)
from quartet.core.openapi import OPERATION_ID, snapshot
from tests.apps import unstarted_app

SNAPSHOT = Path(__file__).resolve().parents[2] / "openapi.json"
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
async def document() -> AsyncIterator[dict[str, Any]]:
    async with unstarted_app() as app:
        yield app.openapi()


def _operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method, operation


def test_the_committed_snapshot_is_the_apps_document(document: dict[str, Any]) -> None:
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    assert committed == snapshot(document), (
        "openapi.json differs from the app's OpenAPI document: run `make openapi` and commit "
        "openapi.json (the diff is the API change reviewers see)"
    )


def test_every_operation_has_a_summary_a_description_and_a_readable_unique_id(
    document: dict[str, Any],
) -> None:
    seen: dict[str, str] = {}
    for where, _, operation in _operations(document):
        assert operation.get("summary"), f"{where} has no summary"
        assert operation.get("description"), f"{where} has no description (a docstring)"
        assert OPERATION_ID.match(operation["operationId"]), (where, operation["operationId"])
        assert operation["operationId"] not in seen, (where, seen.get(operation["operationId"]))
        seen[operation["operationId"]] = where
        assert operation.get("tags"), f"{where} has no tag"
    assert {"auth-login", "auth-me", "posts-list", "shop-products-create"} <= set(seen)


def test_every_tag_is_described(document: dict[str, Any]) -> None:
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    used = {tag for _, _, operation in _operations(document) for tag in operation["tags"]}
    assert used <= described, used - described


def test_every_error_answer_is_a_oneof_of_error_models_discriminated_by_code(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for where, _, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            mapping = schema["discriminator"]["mapping"]
            assert schema["discriminator"]["propertyName"] == "error"
            assert [one["$ref"] for one in schema["oneOf"]] == list(mapping.values())
            for code, ref in mapping.items():
                assert ref == f"#/components/schemas/{component_name(code)}"
                model = schemas[component_name(code)]
                assert model["properties"]["error"]["const"] == code, (where, status, code)
                assert {"error", "detail", "request_id"} <= set(model["required"])
                assert defined_errors()[code].status_code == int(status), (where, status, code)


def test_fastapis_validation_error_is_replaced_by_the_projects(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    validation = document["components"]["schemas"]["ValidationError"]
    assert validation["properties"]["error"]["const"] == "validation_error"
    assert "fields" in validation["properties"]
    for where, _, operation in _operations(document):
        if "parameters" in operation or "requestBody" in operation:
            assert "validation_error" in _codes_of(operation, "422"), where


def _codes_of(operation: dict[str, Any], status: str) -> set[str]:
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return set(schema["discriminator"]["mapping"])


def test_errors_sharing_a_status_stay_apart(document: dict[str, Any], api: str) -> None:
    """A route's own 409s, its router's 401s and the API router's 429 and 503 all survive."""
    place_order = document["paths"][f"{api}/orders/"]["post"]
    assert {"out_of_stock", "product_unavailable", "idempotency_key_in_progress"} <= _codes_of(
        place_order, "409"
    )
    assert {"unauthorized", "invalid_token"} <= _codes_of(place_order, "401")
    assert _codes_of(place_order, "429") == {"rate_limited"}
    assert _codes_of(place_order, "503") == {"store_unavailable"}
    resend = document["paths"][f"{api}/auth/resend-verification"]["post"]
    assert {"rate_limited", "resend_cooldown", "send_limit"} <= _codes_of(resend, "429")


def test_an_error_documents_the_headers_it_sets(document: dict[str, Any], api: str) -> None:
    responses = document["paths"][f"{api}/auth/login"]["post"]["responses"]
    assert "Retry-After" in responses["429"]["headers"]
    assert "Retry-After" in responses["423"]["headers"]


async def test_error_models_accept_the_bodies_the_app_answers(
    client: httpx.AsyncClient, api: str
) -> None:
    invalid = await client.post(f"{api}/auth/login", json={"password": 1})
    assert invalid.status_code == 422
    ValidationFailedError.schema().model_validate(invalid.json(), strict=True)
    anonymous = await client.get(f"{api}/auth/me")
    assert anonymous.status_code == 401
    defined_errors()[anonymous.json()["error"]].schema().model_validate(anonymous.json())


def test_a_code_is_defined_once() -> None:
    with pytest.raises(TypeError, match="'conflict' is defined by both"):
        type("AnotherConflictError", (AppError,), {"status_code": 409, "code": "conflict"})
    assert ConflictError.schema().__name__ == "ConflictError"


def _models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def test_every_example_on_a_model_is_valid_for_it(document: dict[str, Any]) -> None:
    """The document's examples are data a client (or schemathesis) may send as they are."""
    checked = []
    for model in set(_models(BaseModel)):
        extra = model.model_config.get("json_schema_extra")
        if not model.__module__.startswith("quartet.") or not isinstance(extra, dict):
            continue
        for example in extra.get("examples", []):  # type: ignore[union-attr]
            model.model_validate(example)
            checked.append(model.__name__)
    assert {"LoginIn", "RegisterIn", "PostIn", "ProductCreate", "OrderOut"} <= set(checked)
    assert "examples" in document["components"]["schemas"]["LoginIn"]
