"""Application factory: routers, middleware, error handlers, and a lifespan over every store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from quartet import __version__
from quartet.account.router import router as account_router
from quartet.api_docs.router import router as api_docs_router
from quartet.audit.trail import ActionRecorded
from quartet.auth.dependencies import AuthSecurity, token_check_rider
from quartet.auth.router import router as auth_router
from quartet.cache.router import router as cache_router
from quartet.core.domain_events import DomainEvents
from quartet.core.errors import (
    RateLimitedError,
    StoreUnavailableError,
    install_error_handlers,
    responses,
)
from quartet.core.hosts import install_slash_redirects
from quartet.core.logging import configure_logging
from quartet.core.middleware import EdgeMiddleware
from quartet.core.openapi import install as install_openapi
from quartet.core.openapi import operation_id
from quartet.core.rate_limit import GlobalRateLimit, RateLimitRefused
from quartet.core.request_trip import install_riders
from quartet.dashboard.router import router as dashboard_router
from quartet.erasure.router import router as erasure_router
from quartet.erasure.service import ErasureService
from quartet.erasure.worker import ErasureWorker
from quartet.events.repository import EventRepository
from quartet.events.router import router as events_router
from quartet.events.writer import ActivityWriter
from quartet.health.router import router as health_router
from quartet.idempotency.middleware import install_idempotency
from quartet.media.router import router as media_router
from quartet.media.runtime import MediaRuntime
from quartet.media.schemas import MULTIPART_OVERHEAD_BYTES
from quartet.notifications.dispatcher import NotificationDispatcher
from quartet.notifications.providers import Providers
from quartet.notifications.service import Notifier
from quartet.oauth.providers import ProviderRegistry
from quartet.oauth.router import identities_router as oauth_identities_router
from quartet.oauth.router import router as oauth_router
from quartet.observability.install import install as install_observability
from quartet.observability.metrics import count_audit_action, count_rate_limit_refusal
from quartet.observability.runtime import Observability
from quartet.openapi_tags import TAGS
from quartet.posts.router import router as posts_router
from quartet.rbac.router import router as rbac_router
from quartet.schema import apply_cassandra_schema_on_start, apply_mongo_schema_on_start
from quartet.sessions.repository import ActivitySessionRepository
from quartet.sessions.router import router as sessions_router
from quartet.settings import Settings, get_settings
from quartet.shop.router import router as shop_router
from quartet.stores.cache import Cache
from quartet.stores.registry import Stores, error_translations
from quartet.users.router import router as users_router
from quartet.verification.router import router as lifecycle_router


def include_api(app: FastAPI, settings: Settings) -> None:
    """Every versioned domain router under `API_V1_STR`, behind the global rate limit. Each is
    included in the app itself: FastAPI matches a request again at every level of routers it
    is nested in."""
    for router in (
        auth_router,
        lifecycle_router,
        account_router,
        events_router,
        posts_router,
        sessions_router,
        cache_router,
        shop_router,
        media_router,
        rbac_router,
        users_router,
        oauth_router,
        oauth_identities_router,
        erasure_router,
        dashboard_router,
    ):
        app.include_router(
            router,
            prefix=settings.API_V1_STR,
            dependencies=[GlobalRateLimit],
            responses=responses(RateLimitedError, StoreUnavailableError),
        )


def listen(domain_events: DomainEvents, activity: ActivityWriter) -> None:
    """Who hears which announcement (`quartet.core.domain_events`)."""
    domain_events.subscribe(ActionRecorded, lambda event: count_audit_action(event.action))
    domain_events.subscribe(
        ActionRecorded, lambda event: activity.record(event.action, event.user_id, event.activity)
    )
    domain_events.subscribe(RateLimitRefused, lambda event: count_rate_limit_refusal(event.scope))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL, settings.LOG_JSON)
    stores = Stores(settings)
    security = AuthSecurity.from_settings(settings)
    activity = ActivityWriter(EventRepository(stores.cassandra), settings)
    domain_events = DomainEvents()
    listen(domain_events, activity)
    media = MediaRuntime(settings, stores)
    cache = Cache.from_settings(stores.redis, settings)
    observability = Observability(settings, stores, activity, cache)  # before FastAPI (Sentry)
    providers = Providers(settings)
    erasure = ErasureService(stores, cache)
    erasure_worker = ErasureWorker(ErasureService(stores, cache, stores.transactions), settings)
    notifications = NotificationDispatcher(stores.sessionmaker, providers, settings)
    observability.sources.add_stats(
        "quartet_outbox",
        notifications.stats,
        counters={
            "sent": "Notifications this process delivered",
            "failed": "Notifications this process gave up on",
            "retried": "Delivery attempts this process will retry",
        },
    )
    # Only the pending count is sampled (every few seconds, per worker): delivered and failed
    # totals would count the outbox's whole history; the counters above cover them.
    observability.sources.add_gauge(
        "quartet_outbox_messages_pending",
        "Notifications waiting in the outbox",
        notifications.pending,
        queue="outbox",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await stores.open()
        await apply_mongo_schema_on_start(stores.mongo)
        if settings.CASSANDRA_APPLY_SCHEMA_ON_START:
            await apply_cassandra_schema_on_start(stores.cassandra)
        activity.start()
        await media.open()
        await observability.start()
        notifications.start()
        erasure_worker.start()
        # What start-up made lives as long as the process: frozen, it is out of the cyclic
        # collector's full passes (a pass over it stalls every request for a long moment).
        gc.freeze()
        try:
            yield
        finally:
            await erasure_worker.stop()
            await notifications.stop()
            await providers.aclose()
            await observability.stop()
            await media.close()
            await activity.stop()
            await stores.close()
            security.hasher.close()

    app = FastAPI(
        title=settings.PROJECT_NAME,
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        docs_url=None,  # quartet.api_docs serves /docs and /redoc from the app's own files
        redoc_url=None,
        # Tracing and metrics are quartet.observability's (opt-in OTLP tracing, Prometheus).
        # FastAPI's own OpenTelemetry layer would trace every request a second time, and it
        # looks up three global providers per request even when none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_openapi(app)
    app.state.settings = settings
    app.state.stores = stores
    app.state.security = security
    app.state.activity = activity
    app.state.domain_events = domain_events
    app.state.activity_sessions = ActivitySessionRepository.from_settings(stores.redis, settings)
    app.state.media = media
    app.state.cache = cache
    app.state.notifications = notifications
    app.state.erasure = erasure
    app.state.dashboard_cache = Cache(
        stores.redis, settings.REDIS_KEY_PREFIX, settings.DASHBOARD_CACHE_TTL_SECONDS
    )
    app.state.erasure_worker = erasure_worker
    app.state.notifier = Notifier(settings, frozenset(providers.by_channel), notifications.wake)
    app.state.oauth_providers = ProviderRegistry.from_settings(settings)

    install_error_handlers(app, error_translations())
    install_riders(app, token_check_rider)  # the token check rides the one Redis round trip
    app.include_router(health_router)
    include_api(app, settings)
    if settings.DOCS_ENABLED:
        app.include_router(api_docs_router)
    install_slash_redirects(app.router, settings.PUBLIC_BASE_URL)

    # Added innermost first. One edge layer does the cheap per-request work (request id,
    # trusted hosts, security headers, CORS, unhandled errors, body limit, store deadline).
    install_idempotency(app)
    # Uploads stream past MAX_REQUEST_BODY_BYTES up to their own cap (enforced again as read).
    upload_limit = {
        f"{settings.API_V1_STR}/upload/media": settings.MEDIA_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    }
    app.add_middleware(
        EdgeMiddleware,
        allowed_hosts=settings.ALLOWED_HOSTS,
        hsts=settings.ENVIRONMENT == "production",
        cors={
            "allow_origins": settings.BACKEND_CORS_ORIGINS,
            "allow_credentials": "*" not in settings.BACKEND_CORS_ORIGINS,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
            "expose_headers": ["X-Request-ID", "Retry-After"],
        },
        max_bytes=settings.MAX_REQUEST_BODY_BYTES,
        path_limits=upload_limit,
        store_deadline_seconds=settings.STORE_DEADLINE_SECONDS,
    )
    install_observability(app, observability)  # metrics and tracing wrap everything
    return app


def __getattr__(name: str) -> FastAPI:
    """`quartet.main:app` for uvicorn, built on first access (importing stays side-effect free)."""
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
