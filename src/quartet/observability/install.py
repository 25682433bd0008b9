"""Adding observability to an app: its routers and its (outermost) middleware."""

from __future__ import annotations

from fastapi import FastAPI

from quartet.observability import exposition
from quartet.observability.middleware import MetricsMiddleware
from quartet.observability.router import health_router, router
from quartet.observability.runtime import Observability


def install(app: FastAPI, observability: Observability) -> None:
    """Call after the app's other middleware: tracing and metrics wrap everything (the request
    id middleware excepted for tracing, which goes inside it to read the id)."""
    settings = observability.settings
    app.state.observability = observability
    app.include_router(router, prefix=settings.API_V1_STR)
    app.include_router(health_router)
    if settings.METRICS_ENABLED:
        app.include_router(exposition.router)
    if observability.tracing is not None:
        app.add_middleware(observability.tracing.middleware)
    if settings.METRICS_ENABLED:
        app.add_middleware(MetricsMiddleware)
