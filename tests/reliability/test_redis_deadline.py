"""A frozen Redis answers 503 naming redis within the store deadline, and once it thaws no
connection of the pool answers the previous command's reply: a read cut short by the deadline
drops its connection (redis-py keeps a connection whose explicit read timeout expired, with the
reply still owed, which the first fault drill caught as 500s)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from quartet.settings import Settings
from tests.accounts import sign_up
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.reliability.helpers import DEADLINE, SLACK, timed
from tests.responses import assert_store_unavailable
from tests.tcp_proxy import address, tcp_proxy


async def test_a_frozen_redis_is_a_503_within_the_deadline_and_leaves_no_stale_reply(
    app: FastAPI, api: str, settings: Settings
) -> None:
    async with (
        tcp_proxy(*address(settings.REDIS_URL)) as proxy,
        dedicated_app(
            REDIS_URL=proxy.url(settings.REDIS_URL),
            REDIS_TIMEOUT=5,
            STORE_DEADLINE_SECONDS=DEADLINE,
        ) as application,
        http_for(application) as http,
    ):
        user = await sign_up(http, api)
        proxy.pause()
        try:
            calls = [http.get(f"{api}/auth/me", headers=user.headers) for _ in range(8)]
            started = asyncio.get_running_loop().time()
            for response in await asyncio.gather(*calls):
                assert_store_unavailable(response, "redis")
            assert asyncio.get_running_loop().time() - started < DEADLINE + SLACK
        finally:
            proxy.resume()
        for _ in range(20):
            me, took = await timed(http.get(f"{api}/auth/me", headers=user.headers))
            assert me.status_code == 200, me.text
            assert me.json()["id"] == str(user.id)
            assert took < DEADLINE
