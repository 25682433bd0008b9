"""The raw ceiling for a "read one user" endpoint: plain Starlette, one asyncpg pool, one query.

It answers what /api/v1/auth/me answers (the same columns of the same `users` row, looked up by
primary key) with none of the app's layers: no middleware, no token check, no Redis rate limit
or revocation lookup, no SQLAlchemy session, no pydantic. Serve it with
`uvicorn bench.raw_ceiling:app` from the project directory, with `DATABASE_URL` set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from quartet.settings import Settings

POOL_SIZE = int(Settings.model_fields["DB_POOL_SIZE"].default)  # the app's default pool size
COLUMNS = (
    "id, email, username, phone, full_name, is_active, is_superuser, is_email_verified, "
    "is_phone_verified, status, auth_type, language, timezone, country, last_login_at, "
    "created_at, updated_at"
)
QUERY = f"SELECT {COLUMNS} FROM users WHERE id = $1"  # noqa: S608 - constant column list


def _dsn() -> str:
    url = os.environ.get("DATABASE_URL", str(Settings.model_fields["DATABASE_URL"].default))
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(_dsn(), min_size=POOL_SIZE, max_size=POOL_SIZE)
    try:
        yield
    finally:
        await app.state.pool.close()


async def user(request: Request) -> JSONResponse:
    row = await request.app.state.pool.fetchrow(QUERY, request.path_params["user_id"])
    if row is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse({key: _json(value) for key, value in row.items()})


async def liveness(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/users/{user_id:uuid}", user),
        Route("/health/liveness", liveness),
    ],
    lifespan=lifespan,
)
