"""The outbox and its dispatcher: at-least-once after commit, exactly one delivery when two
dispatchers race, retries with backoff then failure, and the provider requests themselves
(Resend and Twilio stand-ins checking auth, body and idempotency key)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from quartet.notifications.dispatcher import NotificationDispatcher
from quartet.notifications.models import OutboxMessage
from quartet.notifications.providers import DeliveryError, Providers
from quartet.stores.registry import Stores
from tests.accounts import register, unique_phone
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.conftest import free_port, make_settings
from tests.mailpit import messages_to, wait_for_mail
from tests.notifications.standins import (
    Provider,
    resend_app,
    resend_settings,
    run_dispatcher_paused,
    serve,
    twilio_app,
    twilio_settings,
)
from tests.verification.codes import send_code

FAST_RETRIES = {"NOTIFY_POLL_SECONDS": "0.1", "NOTIFY_RETRY_BASE_SECONDS": "0"}


async def outbox_rows(stores: Stores, user_id: uuid.UUID) -> list[dict[str, Any]]:
    async with stores.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT kind, status, attempts, last_error, idempotency_key, body_text "
                "FROM notification_outbox WHERE user_id = :u ORDER BY id"
            ),
            {"u": user_id},
        )
        return [dict(r._mapping) for r in rows]


async def settled(stores: Stores, user_id: uuid.UUID) -> dict[str, Any]:
    """The user's single outbox row once it is no longer pending (or after 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        (row,) = await outbox_rows(stores, user_id)
        if row["status"] != "pending" or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
async def _only_the_tests_dispatchers(app: FastAPI) -> AsyncIterator[None]:
    async with run_dispatcher_paused(app):
        yield


@pytest.fixture
async def resend() -> AsyncIterator[Provider]:
    state = Provider()
    async with serve(resend_app(state), state):
        yield state


async def test_resend_gets_the_message_with_its_key(
    app: FastAPI, stores: Stores, resend: Provider
) -> None:
    async with dedicated_app(**resend_settings(resend.url)) as mailer, http_for(mailer) as http:
        account = await register(http, mailer.state.settings.API_V1_STR)
        row = await settled(stores, account.id)

    assert row["status"] == "sent"
    assert row["attempts"] == 1
    (delivery,) = resend.deliveries
    assert delivery["key"] == row["idempotency_key"]
    assert delivery["to"] == [account.email]
    assert delivery["from"] == "Quartet <no-reply@example.com>"
    assert delivery["subject"] == "Confirm your email address for Quartet"
    assert "/verify-email?token=" in delivery["text"]
    assert "<a href=" in delivery["html"]


async def test_provider_errors_are_retried_then_the_message_fails(
    app: FastAPI, stores: Stores, resend: Provider
) -> None:
    resend.failures = [500, 429, 500]
    settings = {**resend_settings(resend.url), **FAST_RETRIES, "NOTIFY_MAX_ATTEMPTS": "3"}
    async with dedicated_app(**settings) as mailer, http_for(mailer) as http:
        account = await register(http, mailer.state.settings.API_V1_STR)
        row = await settled(stores, account.id)
        stats = mailer.state.notifications.stats()

    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert row["last_error"].startswith("resend answered 500 internal_server_error")
    assert row["body_text"] is None
    assert resend.requests == 3
    assert resend.deliveries == []
    assert (stats["retried"], stats["failed"]) == (2, 1)


async def test_a_transient_error_then_success_is_sent_once(
    app: FastAPI, stores: Stores, resend: Provider
) -> None:
    resend.failures = [429]
    async with (
        dedicated_app(**resend_settings(resend.url), **FAST_RETRIES) as mailer,
        http_for(mailer) as http,
    ):
        account = await register(http, mailer.state.settings.API_V1_STR)
        row = await settled(stores, account.id)

    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert len(resend.deliveries) == 1


async def test_a_permanent_error_fails_at_once(
    app: FastAPI, stores: Stores, resend: Provider
) -> None:
    resend.failures = [422]
    async with (
        dedicated_app(**resend_settings(resend.url), **FAST_RETRIES) as mailer,
        http_for(mailer) as http,
    ):
        account = await register(http, mailer.state.settings.API_V1_STR)
        row = await settled(stores, account.id)

    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "422 validation_error" in row["last_error"]


async def test_twilio_errors_are_classified_like_the_provider_means_them(
    app: FastAPI, stores: Stores
) -> None:
    twilio = Provider(failures=[500, 400])
    async with (
        serve(twilio_app(twilio), twilio),
        dedicated_app(**twilio_settings(twilio.url), **FAST_RETRIES) as texter,
        http_for(texter) as http,
    ):
        api = texter.state.settings.API_V1_STR
        account = await register(http, api, phone=unique_phone())
        assert account.phone
        sent = await send_code(http, api, "sms", account.phone, "login")
        assert sent.status_code == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = await outbox_rows(stores, account.id)
            rows = [r for r in rows if r["kind"] == "one_time_code"]
            if rows and rows[0]["status"] != "pending":
                break
            await asyncio.sleep(0.1)

    assert (rows[0]["status"], rows[0]["attempts"]) == ("failed", 2)  # 500 retried, 400 final
    assert "twilio answered 400 21211" in rows[0]["last_error"]


class HangingSmtp:
    """A TCP server that accepts and never greets: a send through it is stuck mid-flight."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        await reader.read()  # until the client goes away
        writer.close()

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()


async def test_a_dispatcher_killed_mid_send_loses_nothing_and_two_deliver_once(
    app: FastAPI, stores: Stores
) -> None:
    """The row commits with the request; a dispatcher dies while sending it; afterwards two
    dispatchers race over the outbox and the mail arrives exactly once."""
    async with (
        dedicated_app(NOTIFY_DISPATCHER_ENABLED="false") as quiet,
        http_for(quiet) as http,
    ):
        account = await register(http, quiet.state.settings.API_V1_STR)
    await asyncio.sleep(0.5)
    assert await messages_to(account.email) == []
    (row,) = await outbox_rows(stores, account.id)
    assert (row["status"], row["attempts"]) == ("pending", 0)

    hanging = HangingSmtp()
    async with hanging as port:
        providers = Providers(make_settings(SMTP_PORT=port))
        doomed = NotificationDispatcher(stores.sessionmaker, providers, make_settings())
        task = asyncio.create_task(doomed.dispatch_once())
        await asyncio.wait_for(hanging.connected.wait(), 10)
        task.cancel()  # the crash: after commit, in the middle of the send
        with pytest.raises(asyncio.CancelledError):
            await task
        await providers.aclose()
    (row,) = await outbox_rows(stores, account.id)
    assert (row["status"], row["attempts"]) == ("pending", 0)

    real = [Providers(make_settings()) for _ in range(2)]
    workers = [NotificationDispatcher(stores.sessionmaker, p, make_settings()) for p in real]
    await asyncio.gather(*(w.dispatch_once() for w in workers))
    for p in real:
        await p.aclose()
    assert sum(w.stats()["sent"] for w in workers) >= 1
    (row,) = await outbox_rows(stores, account.id)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    await wait_for_mail(account.email)
    await asyncio.sleep(1.0)
    assert len(await messages_to(account.email)) == 1
    counts = await workers[0].outbox_counts()
    assert set(counts) == {"pending", "sent", "failed"}
    assert counts["sent"] >= 1


async def test_a_committed_message_waits_for_the_next_start(app: FastAPI, stores: Stores) -> None:
    """A message queued while no dispatcher runs is sent once one starts (the lifespan's)."""
    async with dedicated_app(NOTIFY_DISPATCHER_ENABLED="false") as quiet, http_for(quiet) as http:
        account = await register(http, quiet.state.settings.API_V1_STR)
    async with dedicated_app():
        await wait_for_mail(account.email)
    (row,) = await outbox_rows(stores, account.id)
    assert row["status"] == "sent"


def test_resend_needs_a_key() -> None:
    with pytest.raises(ValueError, match="RESEND_API_KEY"):
        Providers(make_settings(EMAIL_BACKEND="resend"))


async def test_smtp_refusal_is_reported(app: FastAPI) -> None:
    """Nothing listens on the port: a transient error the dispatcher will retry."""

    providers = Providers(make_settings(SMTP_PORT=free_port()))
    message = OutboxMessage(
        kind="k", channel="email", recipient="a@example.com", body_text="x", idempotency_key="k-1"
    )
    with pytest.raises(DeliveryError) as raised:
        await providers.get("email").send(message)
    assert raised.value.permanent is False
    await providers.aclose()
