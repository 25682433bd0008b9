"""One-time codes by email, end to end through Mailpit: every purpose, and the code rules."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from quartet.stores.registry import Stores
from quartet.verification.codes import digest
from tests.accounts import PASSWORD, Account, bearer, login, me, register, sign_up, unique
from tests.auth.flows import TOKEN_KEYS, assert_tokens_alive, assert_tokens_dead
from tests.mailpit import code_in, latest, wait_for_mail
from tests.responses import without_request_id
from tests.verification.codes import emailed_proof, proof_for, send_code, verify_code

INVALID_CODE = {"error": "invalid_code", "detail": "Invalid or expired code"}
INVALID_PROOF = {
    "error": "invalid_proof",
    "detail": "Invalid, expired or already used proof; verify a new code",
}
SENT = {
    "detail": "If the account exists, a message is on its way",
    "expires_in": 600,
    "resend_after": 60,
}


async def test_login_with_an_emailed_code_returns_the_login_tokens(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    sent = await send_code(raw_client, api, "email", account.email, "login")
    assert (sent.status_code, sent.json()) == (202, SENT)
    mail = await latest(account.email, count=2)
    assert mail["Subject"].startswith("Your Quartet code: ")
    proof = await proof_for(raw_client, api, account.email, "login", code_in(mail["Text"]))

    response = await raw_client.post(f"{api}/auth/login-with-otp", json={"proof": proof})
    assert response.status_code == 200, response.text
    assert set(response.json()) == TOKEN_KEYS
    assert (await me(raw_client, api, response.json()["access_token"])).json()["id"] == str(
        account.id
    )
    again = await raw_client.post(f"{api}/auth/login-with-otp", json={"proof": proof})
    assert again.status_code == 400
    assert without_request_id(again.json()) == INVALID_PROOF


async def test_sign_up_by_code_then_set_a_password(raw_client: httpx.AsyncClient, api: str) -> None:
    email = f"{unique()}@example.com"
    proof = await emailed_proof(raw_client, api, email, "signup")

    created = await raw_client.post(
        f"{api}/auth/verify", json={"proof": proof, "username": unique(), "full_name": "Code User"}
    )
    assert created.status_code == 201, created.text
    tokens = created.json()
    profile = (await me(raw_client, api, tokens["access_token"])).json()
    assert profile["email"] == email
    assert profile["is_email_verified"] is True
    assert profile["auth_type"] == "otp"

    no_password = await raw_client.post(
        f"{api}/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert no_password.status_code == 401
    headers = bearer(tokens["access_token"])
    response = await raw_client.post(
        f"{api}/auth/set-password", json={"new_password": PASSWORD}, headers=headers
    )
    assert response.status_code == 204, response.text
    assert (await latest(email, count=2))["Subject"] == "Your Quartet password was changed"
    again = await raw_client.post(
        f"{api}/auth/set-password", json={"new_password": PASSWORD}, headers=headers
    )
    assert again.status_code == 409
    assert again.json()["error"] == "password_already_set"
    ok = await raw_client.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 200


async def test_sign_up_code_is_not_sent_for_a_registered_address(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    sent = await send_code(raw_client, api, "email", account.email, "signup")
    assert (sent.status_code, sent.json()) == (202, SENT)
    assert len(await wait_for_mail(account.email)) == 1  # only the verification link


async def test_reset_by_code_ends_every_session(raw_client: httpx.AsyncClient, api: str) -> None:
    account = await sign_up(raw_client, api)
    proof = await emailed_proof(raw_client, api, account.email, "reset_password", mails_before=1)

    weak = await raw_client.post(
        f"{api}/auth/forget-password", json={"proof": proof, "new_password": "weak"}
    )
    assert weak.status_code == 422  # and the proof is still good:
    response = await raw_client.post(
        f"{api}/auth/forget-password", json={"proof": proof, "new_password": "brand-new-pass-5"}
    )
    assert response.status_code == 204, response.text
    await assert_tokens_dead(raw_client, api, account.tokens)
    new = Account(account.id, account.email, None, None, None, "brand-new-pass-5")
    await assert_tokens_alive(raw_client, api, await login(raw_client, api, new))
    assert (await latest(account.email, count=3))["Subject"] == "Your Quartet password was changed"


async def test_verify_contact_marks_the_email_verified(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(raw_client, api)
    proof = await emailed_proof(raw_client, api, account.email, "verify_contact", mails_before=1)

    response = await raw_client.post(
        f"{api}/auth/verify-email-and-phone", json={"email_proof": proof}
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_email_verified"] is True
    assert response.json()["is_phone_verified"] is False
    wrong_kind = await raw_client.post(
        f"{api}/auth/verify-email-and-phone", json={"phone_proof": proof}
    )
    assert wrong_kind.status_code == 400


async def test_change_password_keeps_this_session_and_ends_the_others(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await sign_up(raw_client, api)
    other = await login(raw_client, api, account)
    body = {"current_password": "not-it-1234", "new_password": "changed-pass-77"}

    wrong = await raw_client.post(f"{api}/auth/change-password", json=body, headers=account.headers)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_current_password"
    body["current_password"] = PASSWORD
    response = await raw_client.post(
        f"{api}/auth/change-password", json=body, headers=account.headers
    )
    assert response.status_code == 204, response.text
    await assert_tokens_alive(raw_client, api, account.tokens)
    await assert_tokens_dead(raw_client, api, other)
    assert "was changed" in (await latest(account.email, count=2))["Text"]


async def test_five_wrong_codes_burn_it(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await register(raw_client, api)
    await send_code(raw_client, api, "email", account.email, "login")
    code = code_in((await latest(account.email, count=2))["Text"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(5):
        response = await verify_code(raw_client, api, account.email, "login", wrong)
        assert response.status_code == 400
        assert without_request_id(response.json()) == INVALID_CODE
    burnt = await verify_code(raw_client, api, account.email, "login", code)
    assert burnt.status_code == 400
    assert without_request_id(burnt.json()) == INVALID_CODE
    async with stores.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT action FROM audit_logs WHERE user_id = :u ORDER BY created_at, id"),
            {"u": account.id},
        )
        audited = [r.action for r in rows]
    # the attempt after the burn no longer knows the account: its audit row has no user
    assert audited.count("auth.code_failed") == 4
    assert audited.count("auth.code_burnt") == 1


async def test_an_expired_code_is_refused(
    raw_client: httpx.AsyncClient, api: str, stores: Stores
) -> None:
    account = await register(raw_client, api)
    await send_code(raw_client, api, "email", account.email, "login")
    code = code_in((await latest(account.email, count=2))["Text"])
    key = f"{stores.settings.REDIS_KEY_PREFIX}otp:code:login:{digest(account.email)}"
    assert 590 <= await stores.redis.ttl(key) <= 600  # the code lives OTP_TTL_SECONDS
    await stores.redis.pexpire(key, 1)  # ... and that time has now passed
    await stores.redis.exists(key)

    response = await verify_code(raw_client, api, account.email, "login", code)
    assert response.status_code == 400
    assert without_request_id(response.json()) == INVALID_CODE


async def test_resend_within_the_cooldown_is_429_whoever_asks(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    for email in (account.email, f"ghost-{account.username}@example.com"):
        first = await send_code(raw_client, api, "email", email, "login")
        second = await send_code(raw_client, api, "email", email, "login")
        assert first.status_code == 202
        assert second.status_code == 429
        assert second.json()["error"] == "resend_cooldown"
        assert 1 <= int(second.headers["retry-after"]) <= 60


async def test_unknown_identifiers_get_the_same_answer_and_nothing(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    account = await register(raw_client, api)
    ghost = f"ghost-{account.username}@example.com"
    answers = []
    for purpose in ("login", "reset_password", "verify_contact"):
        for email in (account.email, ghost):
            response = await send_code(raw_client, api, "email", email, purpose)
            answers.append((response.status_code, response.json()))
    assert answers == [(202, SENT)] * 6
    assert len(await wait_for_mail(account.email, count=4)) == 4
    assert await wait_for_mail(ghost, count=0) == []
    no_code = await verify_code(raw_client, api, ghost, "login", "123456")
    assert without_request_id(no_code.json()) == INVALID_CODE


async def test_a_client_has_an_hourly_send_budget(raw_client: httpx.AsyncClient, api: str) -> None:
    for n in range(20):
        response = await send_code(
            raw_client, api, "email", f"n{n}-{unique()}@example.com", "login"
        )
        assert response.status_code == 202, (n, response.text)
    over = await send_code(raw_client, api, "email", f"{unique()}@example.com", "login")
    assert over.status_code == 429
    assert over.json()["error"] == "send_limit"


async def test_codes_need_the_right_channel_and_sign_in(
    raw_client: httpx.AsyncClient, api: str
) -> None:
    sms = await send_code(raw_client, api, "sms", "+15551234567", "login")
    assert sms.status_code == 422
    assert sms.json()["error"] == "channel_unavailable"
    mismatch = await send_code(raw_client, api, "email", "+15551234567", "login")
    assert mismatch.status_code == 422
    assert mismatch.json()["error"] == "validation_error"
    anonymous = await send_code(raw_client, api, "email", "new@example.com", "change_email")
    assert anonymous.status_code == 401
    bad_code = await verify_code(raw_client, api, "a@example.com", "login", "12345a")
    assert bad_code.status_code == 422
