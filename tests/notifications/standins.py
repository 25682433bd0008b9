"""Local HTTP stand-ins for the remote providers (Resend, Twilio): a real server on loopback
that checks what the provider would receive and answers as the provider does, errors included.

`failures` scripts the next answers (status codes) before the stand-in goes back to accepting.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.conftest import free_port

RESEND_KEY = "re_test_0123456789abcdef"
TWILIO_SID = "AC" + "0" * 30 + "01"
TWILIO_TOKEN = "twilio-test-token-0123456789"
TWILIO_SMS_FROM = "+15005550006"
TWILIO_WHATSAPP_FROM = "+14155238886"


@dataclass
class Provider:
    """What a stand-in received (only requests it accepted as well-formed) and its script."""

    deliveries: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    failures: list[int] = field(default_factory=list)
    seen_keys: dict[str, str] = field(default_factory=dict)
    url: str = ""


RESEND_ERRORS = {
    422: ("validation_error", "Invalid `to` field."),
    429: ("rate_limit_exceeded", "Too many requests."),
    500: ("internal_server_error", "An unexpected error occurred."),
}
TWILIO_ERRORS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
}


def resend_app(state: Provider) -> FastAPI:
    app = FastAPI()

    @app.post("/emails")
    async def emails(request: Request) -> JSONResponse:
        state.requests += 1
        if request.headers.get("authorization") != f"Bearer {RESEND_KEY}":
            return JSONResponse(
                {"statusCode": 401, "message": "API key is invalid", "name": "validation_error"},
                status_code=401,
            )
        body = await request.json()
        key = request.headers.get("idempotency-key")
        assert key, "every message carries an idempotency key"
        assert set(body) >= {"from", "to", "subject", "text"}, body
        assert isinstance(body["to"], list), body
        if state.failures:
            status = state.failures.pop(0)
            name, message = RESEND_ERRORS[status]
            return JSONResponse(
                {"statusCode": status, "message": message, "name": name}, status_code=status
            )
        if key in state.seen_keys:  # Resend answers a repeated key with the first result
            return JSONResponse({"id": state.seen_keys[key]})
        message_id = f"re_{secrets.token_hex(8)}"
        state.seen_keys[key] = message_id
        state.deliveries.append({"key": key, **body})
        return JSONResponse({"id": message_id})

    return app


def twilio_app(state: Provider) -> FastAPI:
    app = FastAPI()

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def messages(sid: str, request: Request) -> JSONResponse:
        state.requests += 1
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if sid != TWILIO_SID or request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        form = dict((await request.form()).items())
        assert set(form) == {"To", "From", "Body"}, form
        if state.failures:
            status = state.failures.pop(0)
            code, message = TWILIO_ERRORS[status]
            return JSONResponse(
                {"code": code, "message": message, "more_info": "", "status": status},
                status_code=status,
            )
        message_sid = f"SM{secrets.token_hex(16)}"
        state.deliveries.append(dict(form))
        return JSONResponse(
            {"sid": message_sid, "status": "queued", "to": form["To"], "from": form["From"]},
            status_code=201,
        )

    return app


@asynccontextmanager
async def run_dispatcher_paused(app: FastAPI) -> AsyncIterator[None]:
    """Every app of a run shares one outbox table. While a test's own app sends through other
    backends (a stand-in), the run app's dispatcher must not take that app's messages."""
    dispatcher = app.state.notifications
    await dispatcher.stop()
    try:
        yield
    finally:
        dispatcher.start()


@asynccontextmanager
async def serve(app: FastAPI, state: Provider) -> AsyncIterator[Provider]:
    """Run `app` on a free loopback port for the block; `state.url` is its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event to await: poll its flag (up to 10 s)
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "the stand-in did not start"
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.should_exit = True
        await task


def twilio_settings(url: str) -> dict[str, str]:
    return {
        "SMS_BACKEND": "twilio_sms",
        "WHATSAPP_BACKEND": "twilio_whatsapp",
        "TWILIO_API_URL": url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_SMS_FROM": TWILIO_SMS_FROM,
        "TWILIO_WHATSAPP_FROM": TWILIO_WHATSAPP_FROM,
    }


def resend_settings(url: str) -> dict[str, str]:
    return {"EMAIL_BACKEND": "resend", "RESEND_API_URL": url, "RESEND_API_KEY": RESEND_KEY}
