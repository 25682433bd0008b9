"""Records the answer of a request that claimed an Idempotency-Key, and replays stored ones.

Pure ASGI. The answer is held back until it is complete, stored (2xx) or its key freed (any
other status, or an exception: the work did not happen, so a retry may do it), and only then
sent, so a client that retries the moment it has an answer finds it stored. Storing gets its
own short store deadline: a request that used up its own must still leave its answer.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet.core.deadline import fresh_deadline
from quartet.idempotency.dependencies import SCOPE_KEY, IdempotentReplay, Reservation
from quartet.idempotency.repository import StoredAnswer
from quartet.stores.redis import UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)
REPLAYED_HEADER = "Idempotent-Replayed"
SAVE_SECONDS = 2.0


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []
        settled = False

        async def holding_send(message: Message) -> None:
            nonlocal start, settled
            reservation: Reservation | None = scope.get(SCOPE_KEY)
            if reservation is None or settled:
                await send(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            settled = True
            await _settle(reservation, start, b"".join(body))
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(body)})

        try:
            await self.app(scope, receive, holding_send)
        finally:
            reservation = scope.get(SCOPE_KEY)
            if reservation is not None and not settled:
                await _release(reservation)


async def _settle(reservation: Reservation, start: Message, body: bytes) -> None:
    status = int(start["status"])
    if not 200 <= status < 300:
        await _release(reservation)
        return
    headers = MutableHeaders(raw=start["headers"])
    answer = StoredAnswer(status, body, headers.get("content-type"), headers.get("location"))
    try:
        with fresh_deadline(SAVE_SECONDS):
            await reservation.repository.complete(
                reservation.key,
                reservation.fingerprint,
                answer,
                reservation.settings.IDEMPOTENCY_TTL_SECONDS,
            )
    except UNAVAILABLE_ERRORS:
        # The work is done and must be answered; the lock expires by itself, after which a
        # retry would run again.
        logger.warning("could not store an idempotent answer (redis unavailable)")


async def _release(reservation: Reservation) -> None:
    try:
        with fresh_deadline(SAVE_SECONDS):
            await reservation.repository.release(reservation.key)
    except UNAVAILABLE_ERRORS:
        logger.warning("could not free an Idempotency-Key (redis unavailable)")


async def _replay(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    answer = exc.answer
    headers = {REPLAYED_HEADER: "true"}
    if answer.location:
        headers["Location"] = answer.location
    return Response(answer.body, answer.status, headers, media_type=answer.content_type)


def install_idempotency(app: FastAPI) -> None:
    """The replay handler and the recording middleware (call before the outer middleware)."""
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_middleware(IdempotencyMiddleware)
