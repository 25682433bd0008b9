"""GET /health/storage names the backend and whether it answers; a store that does not answer
is a 503 (and an upload a 503 store_unavailable), never a 500 or a hang."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from quartet import local_ports
from tests.accounts import sign_up
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import free_port
from tests.media import samples
from tests.media.conftest import backend_settings
from tests.responses import assert_store_unavailable


async def test_the_storage_probe_reports_the_backend(
    http: httpx.AsyncClient, media_app: FastAPI
) -> None:
    response = await http.get("/health/storage")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["backend"] == media_app.state.media.storage.backend


async def test_an_s3_store_that_does_not_answer_is_a_503(
    app: FastAPI, api: str, tmp_path: Path
) -> None:
    dead = f"http://{local_ports.HOST}:{free_port()}"
    settings = {
        **backend_settings("s3", tmp_path),
        "MEDIA_S3_ENDPOINT_URL": dead,
        "MEDIA_S3_TIMEOUT_SECONDS": 1,
    }
    async with dedicated_app(**settings) as down, http_for(down) as http:
        probe = await http.get("/health/storage")
        who = await sign_up(http, api)
        upload = await http.post(
            f"{api}/upload/media",
            files={"file": ("a.pdf", samples.pdf())},
            headers=who.headers,
        )

    assert probe.status_code == 503
    assert probe.json()["error"] == "storage_unavailable"
    assert (probe.json()["backend"], probe.json()["status"]) == ("s3", "unavailable")
    assert_store_unavailable(upload, "storage")
