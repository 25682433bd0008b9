"""What the stores raise becomes the project's error format: an outage a store module detects
itself (replicas that did not confirm a revocation) is a 503 naming the store, never a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from quartet.core.errors import install_error_handlers
from quartet.stores.errors import RecordNotFoundError, StoreUnreachableError
from quartet.stores.registry import error_translations


def _app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, error_translations())

    @app.get("/raise")
    async def raise_it() -> None:
        raise error

    return app


async def _get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get("/raise")


async def test_a_store_level_outage_is_a_503_naming_the_store() -> None:
    response = await _get(_app_raising(StoreUnreachableError("redis")))
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "store_unavailable"
    assert "redis" in body["detail"]


async def test_a_missing_record_is_a_404() -> None:
    response = await _get(_app_raising(RecordNotFoundError("no such thing")))
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
