"""Redis down: the session endpoints answer 503 in the error format, and the same app serves
them again once Redis is back (the shared Redis is never stopped: a closed port stands for an
outage, and a proxy the test cuts and restores for an outage that ends)."""

from __future__ import annotations

import httpx

from tests.conftest import free_port
from tests.sessions.helpers import (
    Account,
    dedicated_app,
    http_for,
    redis_proxy,
    sign_up,
    without_request_id,
)

UNAVAILABLE = {"error": "store_unavailable", "detail": "redis is unavailable; try again shortly"}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert without_request_id(response.json()) == UNAVAILABLE


async def test_session_endpoints_answer_503_while_redis_is_unreachable(
    api: str, user: Account
) -> None:
    """A valid token from the healthy app, presented to an app whose Redis cannot be reached."""
    async with (
        dedicated_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT=0.5) as app,
        http_for(app) as http,
    ):
        for method in ("POST", "GET", "PUT", "DELETE"):
            response = await http.request(method, f"{api}/session/{user.id}", headers=user.headers)
            assert_unavailable(response)


async def test_the_same_app_recovers_when_redis_returns(api: str) -> None:
    async with (
        redis_proxy() as proxy,
        dedicated_app(REDIS_URL=proxy.url, REDIS_TIMEOUT=0.5) as app,
        http_for(app) as http,
    ):
        user = await sign_up(http, api)
        url = f"{api}/session/{user.id}"
        assert (await http.get(url, headers=user.headers)).status_code == 200

        await proxy.cut()
        for method in ("GET", "PUT"):
            assert_unavailable(await http.request(method, url, headers=user.headers))

        await proxy.restore()
        recovered = await http.get(url, headers=user.headers)
        assert recovered.status_code == 200, recovered.text
        assert recovered.json()["user_id"] == str(user.id)
        assert (await http.put(url, headers=user.headers)).status_code == 200
