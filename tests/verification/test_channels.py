"""Codes by SMS and WhatsApp through the Twilio backend, against a local Twilio stand-in, for
every purpose that goes to a phone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import (
    PASSWORD,
    Account,
    bearer,
    login,
    me,
    register,
    sign_up,
    unique,
    unique_phone,
)
from tests.apps import dedicated_app
from tests.auth.flows import assert_tokens_dead
from tests.clients import http_for
from tests.mailpit import code_in, latest
from tests.notifications.standins import (
    TWILIO_SMS_FROM,
    TWILIO_WHATSAPP_FROM,
    Provider,
    run_dispatcher_paused,
    serve,
    twilio_app,
    twilio_settings,
)
from tests.verification.codes import proof_for, send_code

pytestmark = pytest.mark.parametrize("channel", ["sms", "whatsapp"])


@pytest.fixture
async def twilio() -> AsyncIterator[Provider]:
    state = Provider()
    async with serve(twilio_app(state), state):
        yield state


@pytest.fixture
async def http(app: FastAPI, twilio: Provider) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with the Twilio backends (the run's `app` migrated the database)."""
    async with (
        run_dispatcher_paused(app),
        dedicated_app(**twilio_settings(twilio.url)) as phones,
        http_for(phones) as client,
    ):
        yield client


async def texted_code(twilio: Provider, channel: str, phone: str) -> str:
    """The code in the newest message the stand-in accepted for `phone` on `channel`."""
    to = f"whatsapp:{phone}" if channel == "whatsapp" else phone
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sent = [d for d in twilio.deliveries if d["To"] == to]
        if sent:
            expected_from = (
                f"whatsapp:{TWILIO_WHATSAPP_FROM}" if channel == "whatsapp" else TWILIO_SMS_FROM
            )
            assert sent[-1]["From"] == expected_from
            return code_in(sent[-1]["Body"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {channel} message to {phone}")


async def texted_proof(
    http: httpx.AsyncClient,
    api: str,
    twilio: Provider,
    channel: str,
    phone: str,
    purpose: str,
    headers: dict[str, str] | None = None,
) -> str:
    sent = await send_code(http, api, channel, phone, purpose, headers)
    assert sent.status_code == 202, sent.text
    code = await texted_code(twilio, channel, phone)
    return await proof_for(http, api, phone, purpose, code)


async def test_login(http: httpx.AsyncClient, api: str, twilio: Provider, channel: str) -> None:
    account = await register(http, api)
    assert account.phone
    proof = await texted_proof(http, api, twilio, channel, account.phone, "login")
    response = await http.post(f"{api}/auth/login-with-otp", json={"proof": proof})
    assert response.status_code == 200, response.text
    profile = (await me(http, api, response.json()["access_token"])).json()
    assert profile["id"] == str(account.id)


async def test_signup(http: httpx.AsyncClient, api: str, twilio: Provider, channel: str) -> None:
    phone, email = unique_phone(), f"{unique()}@example.com"
    proof = await texted_proof(http, api, twilio, channel, phone, "signup")
    no_email = await http.post(f"{api}/auth/verify", json={"proof": proof})
    assert no_email.status_code == 422  # the proof survives a refused request

    response = await http.post(f"{api}/auth/verify", json={"proof": proof, "email": email})
    assert response.status_code == 201, response.text
    profile = (await me(http, api, response.json()["access_token"])).json()
    assert (profile["phone"], profile["is_phone_verified"]) == (phone, True)
    assert (profile["email"], profile["is_email_verified"]) == (email, False)
    assert (await latest(email))["Subject"] == "Confirm your email address for Quartet"


async def test_verify_contact(
    http: httpx.AsyncClient, api: str, twilio: Provider, channel: str
) -> None:
    account = await register(http, api)
    assert account.phone
    proof = await texted_proof(http, api, twilio, channel, account.phone, "verify_contact")
    response = await http.post(f"{api}/auth/verify-email-and-phone", json={"phone_proof": proof})
    assert response.status_code == 200, response.text
    assert response.json()["is_phone_verified"] is True


async def test_reset_password(
    http: httpx.AsyncClient, api: str, twilio: Provider, channel: str
) -> None:
    account = await sign_up(http, api)
    assert account.phone
    proof = await texted_proof(http, api, twilio, channel, account.phone, "reset_password")
    response = await http.post(
        f"{api}/auth/forget-password", json={"proof": proof, "new_password": "texted-reset-9"}
    )
    assert response.status_code == 204, response.text
    await assert_tokens_dead(http, api, account.tokens)
    await login(http, api, Account(account.id, account.email, None, None, None, "texted-reset-9"))


async def test_change_phone(
    http: httpx.AsyncClient, api: str, twilio: Provider, channel: str
) -> None:
    account = await sign_up(http, api)
    new_phone = unique_phone()
    proof = await texted_proof(
        http, api, twilio, channel, new_phone, "change_phone", headers=account.headers
    )
    stranger = await sign_up(http, api)
    stolen = await http.post(
        f"{api}/settings/change-phone", json={"proof": proof}, headers=stranger.headers
    )
    assert stolen.status_code == 400  # the proof is bound to the user who asked for the code

    response = await http.post(
        f"{api}/settings/change-phone", json={"proof": proof}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["phone"], response.json()["is_phone_verified"]) == (new_phone, True)
    notice = await latest(account.email, count=2)
    assert notice["Subject"] == "The phone number of your Quartet account was changed"
    assert new_phone in notice["Text"]
    assert PASSWORD not in notice["Text"]
    assert bearer(account.tokens["access_token"])  # this session stays signed in:
    assert (await me(http, api, account.tokens["access_token"])).status_code == 200
