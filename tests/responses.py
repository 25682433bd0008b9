"""What the app's error answers look like, for assertions shared by the test packages."""

from __future__ import annotations

from typing import Any

import httpx


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """The error body less its request id, which must be there."""
    assert body["request_id"], body
    return {k: v for k, v in body.items() if k != "request_id"}


def assert_store_unavailable(response: httpx.Response, store: str) -> None:
    """A 503 in the error format naming `store`, with a Retry-After."""
    request = f"{response.request.method} {response.request.url}"
    assert response.status_code == 503, (request, response.text)
    assert response.headers["retry-after"] == "5", request
    assert without_request_id(response.json()) == {
        "error": "store_unavailable",
        "detail": f"{store} is unavailable; try again shortly",
    }
