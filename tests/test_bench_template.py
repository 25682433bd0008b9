"""bench/template_me.py, the stand-in for full-stack-fastapi-template's GET /users/me that
`bench.table` measures /auth/me against: on the real PostgreSQL (the run's test database, its
own `template_user` table dropped afterwards) it answers as the template does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio.to_thread
import httpx
import pytest
from bench.template_me import (
    ACCESS_TOKEN_EXPIRE,
    API_V1_STR,
    BENCH_USER_EMAIL,
    BENCH_USER_ID,
    TemplateModel,
    UserPublic,
    create_access_token,
    create_app,
    psycopg_url,
    token,
)
from sqlmodel import create_engine

from quartet.settings import Settings

ME = f"{API_V1_STR}/users/me"


def _drop_tables(settings: Settings) -> None:
    engine = create_engine(psycopg_url(settings))
    try:
        TemplateModel.metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
async def template(settings: Settings, _migrated: None) -> AsyncIterator[httpx.AsyncClient]:
    """The stand-in app, started (table and user created) over the run's test database."""
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://template"
            ) as client,
        ):
            yield client
    finally:
        await anyio.to_thread.run_sync(_drop_tables, settings)


async def test_me_answers_the_signed_in_user(
    template: httpx.AsyncClient, settings: Settings
) -> None:
    response = await template.get(ME, headers={"Authorization": f"Bearer {token(settings)}"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(UserPublic.model_fields)
    assert body["id"] == str(BENCH_USER_ID)
    assert body["email"] == BENCH_USER_EMAIL
    assert body["is_active"] is True


async def test_me_without_a_token_is_401(template: httpx.AsyncClient) -> None:
    response = await template.get(ME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_with_a_token_signed_by_another_key_is_403(template: httpx.AsyncClient) -> None:
    forged = create_access_token(BENCH_USER_ID, ACCESS_TOKEN_EXPIRE, "another-key-" * 4)
    response = await template.get(ME, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Could not validate credentials"}


async def test_me_for_a_user_that_does_not_exist_is_404(
    template: httpx.AsyncClient, settings: Settings
) -> None:
    secret = settings.SECRET_KEY.get_secret_value()
    stranger = create_access_token(uuid.uuid4(), ACCESS_TOKEN_EXPIRE, secret)
    response = await template.get(ME, headers={"Authorization": f"Bearer {stranger}"})
    assert response.status_code == 404
