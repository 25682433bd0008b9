"""The raw ceiling for a "read one user" endpoint: plain Starlette, one asyncpg pool, one query.

It answers what /api/v1/auth/me answers (the same columns of the same `users` row, looked up by
primary key) with none of the app's layers: no middleware, no token check, no Redis rate limit
or revocation lookup, no SQLAlchemy session, no pydantic. Serve it with
`uvicorn bench.raw_ceiling:app` from the project directory, with `DATABASE_URL` set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.ceiling_pool import pool_lifespan

COLUMNS = (
    "id, email, username, phone, full_name, is_active, is_superuser, is_email_verified, "
    "is_phone_verified, status, auth_type, language, timezone, country, last_login_at, "
    "created_at, updated_at"
)
QUERY = f"SELECT {COLUMNS} FROM users WHERE id = $1"  # noqa: S608 - constant column list


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def row_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A `users` row as the JSON /auth/me answers."""
    return {key: _json(value) for key, value in row.items()}


async def user(request: Request) -> JSONResponse:
    row = await request.app.state.pool.fetchrow(QUERY, request.path_params["user_id"])
    if row is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(row_json(row))


async def liveness(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/users/{user_id:uuid}", user),
        Route("/health/liveness", liveness),
    ],
    lifespan=pool_lifespan,
)
