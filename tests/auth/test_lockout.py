"""Account lockout after ACCOUNT_LOCKOUT_THRESHOLD failed logins (a dedicated app, threshold 3).

The dedicated app shares the run database, so its writes commit: every test uses a fresh
account and its own client address, by which its audit rows are found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import Account, login, register, unique
from tests.apps import dedicated_app
from tests.auth.flows import INVALID_CREDENTIALS, audit_trail, unique_ip
from tests.clients import http_for
from tests.responses import without_request_id

THRESHOLD = 3
LOCK_SECONDS = 30 * 60  # ACCOUNT_LOCKOUT_DURATION_MINUTES's default
LOCKED = {"error": "account_locked", "detail": "Too many failed login attempts; try again later"}
WRONG = "wrong-password-1"


@pytest.fixture(scope="module")
async def lockout_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with dedicated_app(ACCOUNT_LOCKOUT_THRESHOLD=THRESHOLD) as dedicated:
        yield dedicated


@pytest.fixture
def peer() -> str:
    return unique_ip(10)


@pytest.fixture
async def http(lockout_app: FastAPI, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_for(lockout_app, peer) as client:
        yield client


async def _attempt(
    http: httpx.AsyncClient, api: str, field: str, identifier: str, password: str
) -> httpx.Response:
    return await http.post(f"{api}/auth/login", json={field: identifier, "password": password})


def _assert_failed(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert without_request_id(response.json()) == INVALID_CREDENTIALS


def _assert_locked(response: httpx.Response, retry_after: int | None = None) -> None:
    assert response.status_code == 423, response.text
    assert without_request_id(response.json()) == LOCKED
    seconds = int(response.headers["retry-after"])
    if retry_after is None:
        assert 1 <= seconds <= LOCK_SECONDS
    else:
        assert seconds == retry_after


async def _trail(app: FastAPI, peer: str) -> list[tuple[str, Any, Any]]:
    async with app.state.stores.sessionmaker() as session:
        rows = await audit_trail(session, ip=peer)
    return [(r["action"], r["user_id"], r["data"]) for r in rows]


async def test_threshold_failures_lock_the_account_even_against_the_right_password(
    http: httpx.AsyncClient, api: str, lockout_app: FastAPI, peer: str
) -> None:
    account = await register(http, api)
    for _ in range(THRESHOLD - 1):
        _assert_failed(await _attempt(http, api, "email", account.email, WRONG))

    _assert_locked(await _attempt(http, api, "email", account.email, WRONG), LOCK_SECONDS)
    _assert_locked(await _attempt(http, api, "email", account.email, account.password))
    form = await http.post(
        f"{api}/auth/token", data={"username": account.email, "password": account.password}
    )
    _assert_locked(form)

    email = {"identifier_kind": "email"}
    assert await _trail(lockout_app, peer) == [
        ("auth.register", account.id, {}),
        *[("auth.login_failed", account.id, email)] * THRESHOLD,
        ("auth.lockout", account.id, email),
        ("auth.login_locked", account.id, email),
        ("auth.login_locked", account.id, email),
    ]


async def test_the_lock_holds_whichever_identifier_names_the_account(
    http: httpx.AsyncClient, api: str
) -> None:
    """Failures through email, username and phone count together: an attacker cannot get
    THRESHOLD - 1 guesses per identifier."""
    account = await register(http, api)
    _assert_failed(await _attempt(http, api, "email", account.email.upper(), WRONG))
    _assert_failed(await _attempt(http, api, "username", account.identifier("username"), WRONG))
    _assert_locked(
        await _attempt(http, api, "phone", account.identifier("phone"), WRONG), LOCK_SECONDS
    )

    for field in ("email", "username", "phone"):
        right = await _attempt(http, api, field, account.identifier(field), account.password)
        _assert_locked(right)


async def test_an_unknown_email_is_counted_and_locked_the_same_way(
    http: httpx.AsyncClient, api: str, lockout_app: FastAPI, peer: str
) -> None:
    account = await register(http, api)
    ghost = f"{unique()}@example.com"
    answers: dict[str, list[tuple[int, dict[str, Any], str | None]]] = {}
    for name, email in (("ghost", ghost), ("real", account.email)):
        answers[name] = []
        for _ in range(THRESHOLD + 1):
            response = await _attempt(http, api, "email", email, WRONG)
            answers[name].append(
                (
                    response.status_code,
                    without_request_id(response.json()),
                    response.headers.get("retry-after"),
                )
            )

    expected = [(401, INVALID_CREDENTIALS, None)] * (THRESHOLD - 1) + [
        (423, LOCKED, str(LOCK_SECONDS))
    ]
    assert answers["ghost"][:THRESHOLD] == expected
    assert answers["real"][:THRESHOLD] == expected
    assert answers["ghost"][THRESHOLD][:2] == answers["real"][THRESHOLD][:2] == (423, LOCKED)

    by_email = {"identifier_kind": "email"}
    ghost_rows = (await _trail(lockout_app, peer))[1 : THRESHOLD + 3]
    assert ghost_rows == [
        *[("auth.login_failed", None, by_email)] * THRESHOLD,
        ("auth.lockout", None, by_email),
        ("auth.login_locked", None, by_email),
    ]


async def test_a_success_before_the_threshold_resets_the_count(
    http: httpx.AsyncClient, api: str
) -> None:
    account = await register(http, api)
    for _ in range(3):
        for _ in range(THRESHOLD - 1):
            _assert_failed(await _attempt(http, api, "email", account.email, WRONG))
        assert (await login(http, api, account))["token_type"] == "bearer"

    for _ in range(THRESHOLD - 1):
        _assert_failed(await _attempt(http, api, "username", account.identifier("username"), WRONG))
    _assert_locked(await _attempt(http, api, "email", account.email, WRONG), LOCK_SECONDS)


async def test_locking_one_account_leaves_others_alone(http: httpx.AsyncClient, api: str) -> None:
    locked, bystander = await register(http, api), await register(http, api)
    for _ in range(THRESHOLD):
        await _attempt(http, api, "email", locked.email, WRONG)
    _assert_locked(await _attempt(http, api, "email", locked.email, locked.password))

    tokens = await login(http, api, bystander)  # same client address, another account
    assert tokens["token_type"] == "bearer"
    assert isinstance(bystander, Account)
