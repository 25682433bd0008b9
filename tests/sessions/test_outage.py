"""Redis down: the session endpoints answer 503 in the error format, and the same app serves
them again once Redis is back (the shared Redis is never stopped: a closed port stands for an
outage, and a proxy the test cuts and restores for an outage that ends)."""

from __future__ import annotations

from quartet.settings import Settings
from tests.accounts import SignedIn, sign_up
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import free_port
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import address, tcp_proxy


async def test_session_endpoints_answer_503_while_redis_is_unreachable(
    api: str, user: SignedIn
) -> None:
    """A valid token from the healthy app, presented to an app whose Redis cannot be reached."""
    async with (
        dedicated_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT=0.5) as app,
        http_for(app) as http,
    ):
        for method in ("POST", "GET", "PUT", "DELETE"):
            response = await http.request(method, f"{api}/session/{user.id}", headers=user.headers)
            assert_store_unavailable(response, "redis")


async def test_the_same_app_recovers_when_redis_returns(api: str, settings: Settings) -> None:
    async with (
        tcp_proxy(*address(settings.REDIS_URL)) as proxy,
        dedicated_app(REDIS_URL=proxy.url(settings.REDIS_URL), REDIS_TIMEOUT=0.5) as app,
        http_for(app) as http,
    ):
        user = await sign_up(http, api)
        url = f"{api}/session/{user.id}"
        assert (await http.get(url, headers=user.headers)).status_code == 200

        await proxy.cut()
        for method in ("GET", "PUT"):
            assert_store_unavailable(await http.request(method, url, headers=user.headers), "redis")

        await proxy.restore()
        recovered = await http.get(url, headers=user.headers)
        assert recovered.status_code == 200, recovered.text
        assert recovered.json()["user_id"] == str(user.id)
        assert (await http.put(url, headers=user.headers)).status_code == 200
