"""Every error answer has one shape: `{"error", "detail", "request_id"}` (+ `fields` on 422).

A throwaway app (its own settings, a small body limit) gets a few test-only routes; the stores it
touches are the real ones, or deliberately unreachable ones for the 503 translations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from quartet.stores.dependencies import DbSession, RedisDep
from tests.apps import unstarted_app
from tests.clients import http_for

BODY_LIMIT = 1024
CLOSED_PORT = 1  # nothing listens on 127.0.0.1:1: connections are refused at once


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1)


def _add_test_routes(app: FastAPI) -> None:
    @app.post("/_test/strict")
    async def strict(payload: StrictIn) -> dict[str, Any]:
        return payload.model_dump()

    @app.post("/_test/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/_test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @app.get("/_test/redis")
    async def redis_route(redis: RedisDep) -> dict[str, object]:
        return {"value": await redis.get("anything")}

    @app.get("/_test/postgres")
    async def postgres_route(session: DbSession) -> dict[str, int]:
        return {"one": int((await session.execute(text("SELECT 1"))).scalar_one())}


@asynccontextmanager
async def _client(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    async with unstarted_app(MAX_REQUEST_BODY_BYTES=BODY_LIMIT, **overrides) as app:
        _add_test_routes(app)
        async with http_for(app) as http:
            yield http


@pytest.fixture(scope="module")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """`app` (the session's) guarantees the run's migrated test database exists."""
    async with _client() as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert {"error", "detail", "request_id"} <= set(body)
    return body


async def test_404_unknown_path(http: httpx.AsyncClient) -> None:
    body = assert_error(await http.get("/no/such/path"), 404, "not_found")
    assert set(body) == {"error", "detail", "request_id"}


async def test_405_wrong_method(http: httpx.AsyncClient) -> None:
    response = await http.delete("/health")
    body = assert_error(response, 405, "method_not_allowed")
    assert set(body) == {"error", "detail", "request_id"}
    assert "GET" in response.headers["allow"]


async def test_413_declared_content_length_over_the_limit(http: httpx.AsyncClient) -> None:
    response = await http.post("/_test/raw", content=b"x" * (BODY_LIMIT + 1))
    body = assert_error(response, 413, "payload_too_large")
    assert str(BODY_LIMIT) in body["detail"]


async def test_body_at_the_limit_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post("/_test/raw", content=b"x" * BODY_LIMIT)
    assert response.status_code == 200
    assert response.json() == {"size": BODY_LIMIT}


async def _chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


@pytest.mark.parametrize("path", ["/_test/raw", "/_test/strict"])
async def test_413_streamed_body_without_content_length(http: httpx.AsyncClient, path: str) -> None:
    request = http.build_request(
        "POST",
        path,
        content=_chunks(BODY_LIMIT * 4),
        headers={"content-type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    body = assert_error(await http.send(request), 413, "payload_too_large")
    assert str(BODY_LIMIT) in body["detail"]


async def test_streamed_body_under_the_limit_is_accepted(http: httpx.AsyncClient) -> None:
    request = http.build_request("POST", "/_test/raw", content=_chunks(BODY_LIMIT - 24))
    assert "content-length" not in request.headers
    response = await http.send(request)
    assert response.status_code == 200
    assert response.json() == {"size": BODY_LIMIT - 24}


async def test_422_lists_every_failing_field(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/_test/strict", json={"name": "", "quantity": 0, "unexpected": True}
    )
    body = assert_error(response, 422, "validation_error")
    failing = {tuple(f["loc"]): f["type"] for f in body["fields"]}
    assert failing == {
        ("body", "name"): "string_too_short",
        ("body", "quantity"): "greater_than_equal",
        ("body", "unexpected"): "extra_forbidden",
    }
    assert all(f["msg"] for f in body["fields"])
    assert "body." in body["detail"]
    # Input values are not echoed back (they may be secrets such as passwords).
    assert all("input" not in f for f in body["fields"])


async def test_422_missing_body_and_bad_json(http: httpx.AsyncClient) -> None:
    body = assert_error(await http.post("/_test/strict"), 422, "validation_error")
    assert [f["loc"] for f in body["fields"]] == [["body"]]
    broken = await http.post(
        "/_test/strict", content=b"{not json", headers={"content-type": "application/json"}
    )
    body = assert_error(broken, 422, "validation_error")
    assert body["fields"][0]["type"] == "json_invalid"


async def test_422_for_a_json_body_that_is_not_utf8(http: httpx.AsyncClient) -> None:
    """Not a 400 (FastAPI's answer when the bytes do not even decode): a malformed payload."""
    garbled = await http.post(
        "/_test/strict", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    body = assert_error(garbled, 422, "validation_error")
    assert body["fields"] == [
        {"loc": ["body"], "msg": "JSON body is not UTF-8", "type": "json_invalid"}
    ]


async def test_valid_payload_passes(http: httpx.AsyncClient) -> None:
    response = await http.post("/_test/strict", json={"name": "ok", "quantity": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "ok", "quantity": 2}


async def test_500_hides_the_exception(http: httpx.AsyncClient) -> None:
    origin = "http://localhost:5173"  # one of the default BACKEND_CORS_ORIGINS
    response = await http.get(
        "/_test/boom", headers={"X-Request-ID": "trace-500-abcdef", "Origin": origin}
    )
    body = assert_error(response, 500, "internal_error")
    assert set(body) == {"error", "detail", "request_id"}
    assert body["request_id"] == "trace-500-abcdef"
    assert response.headers["x-request-id"] == "trace-500-abcdef"
    for leak in ("Traceback", "RuntimeError", "secret internal detail", "/etc/passwd", ".py"):
        assert leak not in response.text
    # The 500 still carries the security headers, and CORS so a SPA can read it.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == origin


async def test_unreachable_redis_is_a_503_naming_redis() -> None:
    async with _client(REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0") as http:
        response = await http.get("/_test/redis")
    body = assert_error(response, 503, "store_unavailable")
    assert "redis" in body["detail"]
    assert response.headers["retry-after"] == "5"


async def test_unreachable_postgres_is_a_503_naming_postgres() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{CLOSED_PORT}/quartet_test"
    async with _client(DATABASE_URL=url) as http:
        response = await http.get("/_test/postgres")
    body = assert_error(response, 503, "store_unavailable")
    assert "postgres" in body["detail"]
    assert response.headers["retry-after"] == "5"
    for leak in ("Traceback", "asyncpg", "127.0.0.1"):
        assert leak not in response.text


async def test_test_routes_work_against_the_real_stores(http: httpx.AsyncClient) -> None:
    """Control for the two 503 tests: the same routes answer 200 when the stores are up."""
    assert (await http.get("/_test/redis")).json() == {"value": None}
    assert (await http.get("/_test/postgres")).json() == {"one": 1}
