"""The app plus two probe routes for bench/rbac.py that differ only by a permission check:
`GET /api/v1/bench/whoami` (any signed-in caller) and `GET /api/v1/bench/guarded`
(`RequirePermission("cache.read")`). Both answer the caller's id, behind the same global rate
limit as every /api/v1 route."""

from __future__ import annotations

from fastapi import APIRouter

from quartet.auth.dependencies import CurrentUser
from quartet.cache.permissions import CACHE_READ
from quartet.core.rate_limit import GlobalRateLimit
from quartet.main import create_app
from quartet.rbac.dependencies import RequirePermission
from quartet.settings import get_settings

probes = APIRouter(prefix=f"{get_settings().API_V1_STR}/bench", dependencies=[GlobalRateLimit])


@probes.get("/whoami")
async def whoami(user: CurrentUser) -> dict[str, str]:
    return {"id": str(user.user_id)}


@probes.get("/guarded", dependencies=[RequirePermission(CACHE_READ)])
async def guarded(user: CurrentUser) -> dict[str, str]:
    return {"id": str(user.user_id)}


app = create_app()
app.include_router(probes)
