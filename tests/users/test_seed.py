"""`quartet db seed` creates FIRST_SUPERUSER once, repairs it when it drifts, and that account
logs in as a superuser. The CLI runs commit to the run database, under an address of their own."""

from __future__ import annotations

import httpx
import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.settings import Settings
from quartet.users.seed import seed_superuser
from tests.accounts import bearer, unique
from tests.conftest import make_settings, run_cli


def _seed(email: str, password: str) -> str:
    result = run_cli(
        "db",
        "seed",
        env={"FIRST_SUPERUSER_EMAIL": email, "FIRST_SUPERUSER_PASSWORD": password},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def _login(http: httpx.AsyncClient, api: str, email: str, password: str) -> httpx.Response:
    return await http.post(f"{api}/auth/login", json={"email": email, "password": password})


async def test_seed_creates_the_superuser_once_and_it_logs_in_as_one(
    client: httpx.AsyncClient, api: str, settings: Settings
) -> None:
    email, password = f"{unique('admin')}@example.com", "seeded-admin-pass-1"

    assert f"superuser {email} created" in _seed(email, password)
    assert f"superuser {email} up to date" in _seed(email, password)

    response = await _login(client, api, email, password)
    assert response.status_code == 200, response.text
    tokens = response.json()
    claims = jwt.decode(
        tokens["session_token"],
        settings.SECRET_KEY.get_secret_value(),
        algorithms=[settings.JWT_ALGORITHM],
        audience=settings.JWT_AUDIENCE,
    )
    assert claims["roles"] == ["superuser"]
    assert claims["user"]["is_superuser"] is True
    me = await client.get(f"{api}/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    profile = me.json()
    assert (profile["email"], profile["is_superuser"], profile["is_email_verified"]) == (
        email,
        True,
        True,
    )
    assert profile["full_name"] == "Administrator"


async def test_the_seeder_repairs_a_changed_password_and_a_demoted_superuser(
    client: httpx.AsyncClient, api: str, db: AsyncSession
) -> None:
    """In-process (inside the test's rolled-back transaction): the same seeder the CLI runs."""
    email = f"{unique('admin')}@example.com"
    first = make_settings(FIRST_SUPERUSER_EMAIL=email, FIRST_SUPERUSER_PASSWORD="first-pass-1")
    second = make_settings(FIRST_SUPERUSER_EMAIL=email, FIRST_SUPERUSER_PASSWORD="second-pass-2")
    assert await seed_superuser(db, first) == f"superuser {email} created"
    await db.execute(text("UPDATE users SET is_superuser = false WHERE email = :e"), {"e": email})
    db.expire_all()

    assert await seed_superuser(db, second) == f"superuser {email} updated"
    assert await seed_superuser(db, second) == f"superuser {email} up to date"

    assert (await _login(client, api, email, "first-pass-1")).status_code == 401
    response = await _login(client, api, email, "second-pass-2")
    assert response.status_code == 200, response.text
    me = await client.get(f"{api}/auth/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["is_superuser"] is True
