"""`/settings/change-email`: the new address is proven by a code sent to it; the old is told."""

from __future__ import annotations

import asyncio

import httpx

from tests.accounts import PASSWORD, register, sign_up, unique
from tests.mailpit import latest, wait_for_mail
from tests.verification.codes import emailed_proof, send_code


async def test_change_email_with_a_code_sent_to_the_new_address(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(raw_client, api)
    new_email = f"{unique()}@example.com"
    proof = await emailed_proof(raw_client, api, new_email, "change_email", headers=account.headers)

    response = await raw_client.post(
        f"{api}/settings/change-email", json={"proof": proof}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["is_email_verified"]) == (new_email, True)
    notice = await latest(account.email, count=2)  # to the old address
    assert notice["Subject"] == "The email address of your Quartet account was changed"
    assert new_email in notice["Text"]
    logged_in = await raw_client.post(
        f"{api}/auth/login", json={"email": new_email, "password": PASSWORD}
    )
    assert logged_in.status_code == 200
    reused = await raw_client.post(
        f"{api}/settings/change-email", json={"proof": proof}, headers=account.headers
    )
    assert reused.status_code == 400


async def test_no_code_goes_to_an_address_already_registered(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(raw_client, api)
    taken = await register(raw_client, api)
    sent = await send_code(
        raw_client, api, "email", taken.email, "change_email", headers=account.headers
    )
    assert sent.status_code == 202
    await asyncio.sleep(1.0)  # what the dispatcher would have sent by now
    assert len(await wait_for_mail(taken.email)) == 1  # its verification mail only
