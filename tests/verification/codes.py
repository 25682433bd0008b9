"""Requests of the one-time-code flows, shared by the code, channel and settings tests."""

from __future__ import annotations

import httpx

from tests.mailpit import code_in, latest


async def send_code(
    http: httpx.AsyncClient,
    api: str,
    channel: str,
    identifier: str,
    purpose: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await http.post(
        f"{api}/auth/send-one-time-password",
        json={"channel": channel, "identifier": identifier, "purpose": purpose},
        headers=headers,
    )


async def verify_code(
    http: httpx.AsyncClient, api: str, identifier: str, purpose: str, code: str
) -> httpx.Response:
    return await http.post(
        f"{api}/auth/verify-one-time-password",
        json={"identifier": identifier, "purpose": purpose, "code": code},
    )


async def proof_for(
    http: httpx.AsyncClient, api: str, identifier: str, purpose: str, code: str
) -> str:
    response = await verify_code(http, api, identifier, purpose, code)
    assert response.status_code == 200, response.text
    assert response.json()["purpose"] == purpose
    proof: str = response.json()["proof"]
    return proof


async def emailed_proof(
    http: httpx.AsyncClient,
    api: str,
    email: str,
    purpose: str,
    *,
    mails_before: int = 0,
    headers: dict[str, str] | None = None,
) -> str:
    """Send a code by email, read it from Mailpit, trade it for a proof."""
    sent = await send_code(http, api, "email", email, purpose, headers)
    assert sent.status_code == 202, sent.text
    code = code_in((await latest(email, count=mails_before + 1))["Text"])
    return await proof_for(http, api, email, purpose, code)
