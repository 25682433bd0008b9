"""The raw ceiling for a page of posts: plain Starlette, one asyncpg pool, one query.

It answers what GET /api/v1/posts answers for the first page (the same posts with author, like
count and the viewer's like, newest first, in the same JSON shape) with none of the app's
layers: no middleware, no token check, no Redis rate limit or revocation lookup, no SQLAlchemy,
no pydantic. The viewer is named by the `viewer` query parameter instead of a token. Serve it
with `uvicorn bench.posts_ceiling:app` from the project directory, with `DATABASE_URL` set.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.ceiling_pool import pool_lifespan
from quartet.core.pagination import UUID_KEYS

MAX_LIMIT = 100
# The statement the app's PostRepository.page sends for a first page, written by hand.
QUERY = """
SELECT p.id, p.content, p.created_at, p.updated_at, p.author_id,
       coalesce(u.full_name, u.username) AS author_name,
       (SELECT count(*) FROM likes l WHERE l.post_id = p.id) AS like_count,
       EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = $1) AS liked_by_me
FROM posts p JOIN users u ON u.id = p.author_id
ORDER BY p.id DESC
LIMIT $2
"""


def _item(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "author": {"id": str(row["author_id"]), "name": row["author_name"]},
        "content": row["content"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "like_count": row["like_count"],
        "liked_by_me": row["liked_by_me"],
    }


async def posts(request: Request) -> JSONResponse:
    try:
        limit = min(max(int(request.query_params.get("limit", "20")), 1), MAX_LIMIT)
        viewer = uuid.UUID(request.query_params["viewer"])
    except (KeyError, ValueError):
        return JSONResponse({"error": "validation_error"}, status_code=422)
    rows = await request.app.state.pool.fetch(QUERY, viewer, limit + 1)
    more = len(rows) > limit
    items = [_item(row) for row in rows[:limit]]
    next_cursor = UUID_KEYS.encode(rows[limit - 1]["id"]) if more else None
    return JSONResponse({"items": items, "next_cursor": next_cursor})


async def liveness(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[Route("/posts", posts), Route("/health/liveness", liveness)],
    lifespan=pool_lifespan,
)
