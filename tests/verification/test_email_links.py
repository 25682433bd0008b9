"""Email-link flows end to end: the API, the outbox, the dispatcher, real SMTP into Mailpit."""

from __future__ import annotations

import dataclasses
import hashlib

import httpx
from sqlalchemy import text

from quartet.stores.registry import Stores
from tests.accounts import PASSWORD, login, me, register, sign_up
from tests.auth.flows import assert_tokens_alive, assert_tokens_dead
from tests.mailpit import latest, link_token, wait_for_mail
from tests.responses import without_request_id

NEW_PASSWORD = "another-horse-42"
INVALID_LINK = {
    "error": "invalid_link_token",
    "detail": "This link is invalid, expired or already used",
}
ACCEPTED = {"detail": "If the account exists, a message is on its way"}


async def test_registration_mails_a_link_that_verifies_the_address_once(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await register(raw_client, api)

    mail = await latest(account.email)
    assert mail["Subject"] == "Confirm your email address for Quartet"
    token = link_token(mail["Text"], "verify-email")
    assert f"http://localhost:5173/verify-email?token={token}" in mail["Text"]
    assert f'href="http://localhost:5173/verify-email?token={token}"' in mail["HTML"]
    async with stores.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT token_hash, purpose FROM account_tokens WHERE user_id = :u"),
                {"u": account.id},
            )
        ).one()
        outbox = (
            await conn.execute(
                text(
                    "SELECT status, body_text, idempotency_key FROM notification_outbox "
                    "WHERE user_id = :u"
                ),
                {"u": account.id},
            )
        ).one()
    assert stored == (hashlib.sha256(token.encode()).hexdigest(), "verify_email")
    assert outbox.status == "sent"
    assert outbox.body_text is None
    assert mail["MessageID"].startswith(outbox.idempotency_key)

    tokens = await login(raw_client, api, account)
    assert (await me(raw_client, api, tokens["access_token"])).json()["is_email_verified"] is False
    response = await raw_client.post(f"{api}/auth/verify-email", json={"token": token})
    assert response.status_code == 204, response.text
    assert (await me(raw_client, api, tokens["access_token"])).json()["is_email_verified"] is True

    again = await raw_client.post(f"{api}/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert without_request_id(again.json()) == INVALID_LINK


async def test_a_resent_link_supersedes_the_first(raw_client: httpx.AsyncClient, api: str) -> None:
    account = await sign_up(raw_client, api)
    first = link_token((await latest(account.email))["Text"], "verify-email")

    response = await raw_client.post(f"{api}/auth/resend-verification", headers=account.headers)
    assert response.status_code == 202, response.text
    assert response.json() == ACCEPTED
    second = link_token((await latest(account.email, count=2))["Text"], "verify-email")

    stale = await raw_client.post(f"{api}/auth/verify-email", json={"token": first})
    assert stale.status_code == 400
    fresh = await raw_client.post(f"{api}/auth/verify-email", json={"token": second})
    assert fresh.status_code == 204


async def test_forgot_and_reset_end_every_session_and_tell_the_user(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(raw_client, api)
    other_device = await login(raw_client, api, account)
    await latest(account.email)  # the verification mail

    response = await raw_client.post(f"{api}/auth/forgot-password", json={"email": account.email})
    assert response.status_code == 202
    assert response.json() == ACCEPTED
    mail = await latest(account.email, count=2)
    assert mail["Subject"] == "Reset your Quartet password"
    token = link_token(mail["Text"], "reset-password")

    reset = await raw_client.post(
        f"{api}/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text

    await assert_tokens_dead(raw_client, api, account.tokens)
    await assert_tokens_dead(raw_client, api, other_device)
    refreshed = await raw_client.post(
        f"{api}/auth/refresh", json={"refresh_token": other_device["refresh_token"]}
    )
    assert refreshed.status_code == 401
    old = await raw_client.post(
        f"{api}/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    new = await login(raw_client, api, dataclasses.replace(account, password=NEW_PASSWORD))
    await assert_tokens_alive(raw_client, api, new)

    notice = await latest(account.email, count=3)
    assert notice["Subject"] == "Your Quartet password was changed"
    assert "was reset" in notice["Text"]

    reused = await raw_client.post(
        f"{api}/auth/reset-password", json={"token": token, "new_password": "third-horse-77"}
    )
    assert reused.status_code == 400
    assert without_request_id(reused.json()) == INVALID_LINK


async def test_a_weak_password_keeps_the_reset_link_usable(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    await raw_client.post(f"{api}/auth/forgot-password", json={"email": account.email})
    token = link_token((await latest(account.email, count=2))["Text"], "reset-password")

    weak = await raw_client.post(
        f"{api}/auth/reset-password", json={"token": token, "new_password": "short"}
    )
    assert weak.status_code == 422
    assert weak.json()["error"] == "weak_password"
    good = await raw_client.post(
        f"{api}/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert good.status_code == 204


async def test_an_expired_reset_link_is_refused(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await register(raw_client, api)
    await raw_client.post(f"{api}/auth/forgot-password", json={"email": account.email})
    token = link_token((await latest(account.email, count=2))["Text"], "reset-password")
    async with stores.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE account_tokens SET expires_at = now() - interval '1 second' "
                "WHERE user_id = :u AND purpose = 'reset_password'"
            ),
            {"u": account.id},
        )

    response = await raw_client.post(
        f"{api}/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert without_request_id(response.json()) == INVALID_LINK


async def test_unknown_addresses_get_the_same_answer_and_no_mail(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    unknown = f"nobody-{account.username}@example.com"
    answers = []
    for email in (account.email, unknown):
        for path in ("forgot-password", "resend-verification"):
            response = await raw_client.post(f"{api}/auth/{path}", json={"email": email})
            answers.append((response.status_code, response.json()))
    assert answers == [(202, ACCEPTED)] * 4

    assert len(await wait_for_mail(account.email, count=3)) == 3  # verify, reset, verify again
    assert await wait_for_mail(unknown, count=0) == []


async def test_a_second_request_within_the_cooldown_is_429_known_or_not(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    for email in (account.email, f"ghost-{account.username}@example.com"):
        first = await raw_client.post(f"{api}/auth/forgot-password", json={"email": email})
        second = await raw_client.post(f"{api}/auth/forgot-password", json={"email": email})
        assert first.status_code == 202
        assert second.status_code == 429
        assert second.json()["error"] == "resend_cooldown"
        assert 1 <= int(second.headers["retry-after"]) <= 60


async def test_bad_input_gets_the_error_format(raw_client: httpx.AsyncClient, api: str) -> None:
    response = await raw_client.post(f"{api}/auth/verify-email", json={"token": "x", "extra": 1})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    nobody = await raw_client.post(f"{api}/auth/resend-verification")
    assert nobody.status_code == 422
    assert nobody.json()["error"] == "validation_error"
    forged = await raw_client.post(f"{api}/auth/verify-email", json={"token": "A" * 43})
    assert forged.status_code == 400
    assert without_request_id(forged.json()) == INVALID_LINK
