"""`GET /metrics`: the Prometheus text format, summed over every worker in multiprocess mode.

Exposure: with METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>`; without
one, production refuses scrapes unless METRICS_PUBLIC says a network policy already keeps the
endpoint private. Dev and test serve it openly.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from quartet.core.errors import ForbiddenError, UnauthorizedError, responses
from quartet.observability.multiprocess import multiprocess_dir
from quartet.settings import Settings

router = APIRouter(tags=["observability"])


def render_metrics() -> bytes:
    """This process's metrics, or every worker's when running in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def check_scrape_allowed(settings: Settings, authorization: str | None) -> None:
    token = settings.METRICS_TOKEN
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode(), expected):
            raise UnauthorizedError("A valid metrics token is required")
    elif settings.ENVIRONMENT == "production" and not settings.METRICS_PUBLIC:
        raise ForbiddenError("Metrics are disabled: set METRICS_TOKEN (or METRICS_PUBLIC)")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **responses(UnauthorizedError, ForbiddenError),
    },
    summary="Prometheus metrics (all workers)",
)
async def metrics(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Prometheus text format, merged across workers; needs METRICS_TOKEN as a bearer token unless
    METRICS_PUBLIC is set."""
    check_scrape_allowed(request.app.state.settings, authorization)
    await request.app.state.observability.sources.sample()
    return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)
