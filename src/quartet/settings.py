"""One settings object for the whole app, read from the environment (and `.env`).

Defaults target the local services started by `make services-up`, so `make dev` and `make test`
need no configuration; every connection setting stays overridable for real deployments.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from quartet import local_ports

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production
DEV_SUPERUSER_PASSWORD = "change-me-superuser-1"  # noqa: S105 - refused in production

Environment = Literal["dev", "test", "production"]
StrList = Annotated[list[str], NoDecode]


def _split_list(value: Any) -> Any:
    """Accept a JSON array or a comma-separated string for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class OAuthClientSettings(BaseModel):
    """One social-login provider's app registration: `OAUTH_<NAME>_CLIENT_ID`, `..._SECRET`
    and, for an OpenID Connect provider other than Google, `OAUTH_<NAME>_ISSUER`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(default="", max_length=512)
    client_secret: SecretStr = SecretStr("")
    issuer: str | None = Field(default=None, max_length=2048)


_OAUTH_VARIABLE = re.compile(
    r"^OAUTH_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_(ISSUER|CLIENT_ID|CLIENT_SECRET)$"
)


class _OAuthProvidersSource(PydanticBaseSettingsSource):
    """Gathers every `OAUTH_<NAME>_ISSUER|CLIENT_ID|CLIENT_SECRET` (environment over `.env`)
    into `OAUTH_PROVIDERS`, keyed by the lower-cased name: providers are open-ended, so they
    cannot each be a declared field. An explicit `OAUTH_PROVIDERS=` argument replaces them."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        init: PydanticBaseSettingsSource,
        *sources: EnvSettingsSource,
    ) -> None:
        super().__init__(settings_cls)
        self.sources = () if "OAUTH_PROVIDERS" in init() else sources

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        providers: dict[str, dict[str, str]] = {}
        for source in self.sources:  # lowest priority first
            for key, value in source.env_vars.items():
                match = _OAUTH_VARIABLE.match(key)
                if match and value:
                    name, part = match.group(1).lower().replace("_", "-"), match.group(2)
                    providers.setdefault(name, {})[part.lower()] = value
        return {"OAUTH_PROVIDERS": providers} if providers else {}


class Settings(BaseSettings):
    """Every knob of the app. Env names follow seed 004 where it has one."""

    # hide_input_in_errors: a refusal must not print the other settings (DATABASE_URL with its
    # password, SECRET_KEY, ...) as pydantic's `input_value`.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=True, hide_input_in_errors=True
    )

    ENVIRONMENT: Environment = "dev"
    PROJECT_NAME: str = "Quartet"
    API_V1_STR: str = "/api/v1"
    SECRET_KEY: SecretStr = SecretStr(DEV_SECRET_KEY)
    BACKEND_CORS_ORIGINS: StrList = ["http://localhost:5173", "http://localhost:3000"]
    LOG_LEVEL: str = "INFO"
    LOG_JSON: bool = True
    MAX_REQUEST_BODY_BYTES: int = Field(default=1_048_576, ge=1024)
    TRUSTED_PROXIES: StrList = []
    # Swagger UI at /docs and ReDoc at /redoc, served from the app's own files (/openapi.json
    # stays either way)
    DOCS_ENABLED: bool = True

    # `quartet serve` (the container image sets SERVER_HOST=0.0.0.0)
    SERVER_HOST: str = "127.0.0.1"
    SERVER_PORT: int = Field(default=8000, ge=1, le=65535)
    SERVER_WORKERS: int = Field(default=1, ge=1, le=64)
    # Reliability: a bound on every request's store work, trusted hosts, the public base URL
    # redirects are built from, and Idempotency-Key answers kept for client retries
    STORE_DEADLINE_SECONDS: float = Field(default=5.0, ge=0.5, le=120)
    ALLOWED_HOSTS: StrList = ["localhost", "127.0.0.1", "::1", "testserver"]
    PUBLIC_BASE_URL: str = Field(default="http://localhost:8000", pattern=r"^https?://[^/?#]+")
    IDEMPOTENCY_TTL_SECONDS: int = Field(default=86_400, ge=60, le=7 * 86_400)
    IDEMPOTENCY_LOCK_SECONDS: int = Field(default=60, ge=5, le=3600)

    # PostgreSQL
    DATABASE_URL: str = f"postgresql+asyncpg://{local_ports.PG_SERVER}/quartet"
    # Every connection is kept open: SQLAlchemy closes an overflow connection when it is given
    # back to a full pool, so a worker whose concurrency hovers around the pool size opened a
    # new connection (a new PostgreSQL backend) for a request in several. Past DB_POOL_SIZE
    # busy connections a request waits DB_POOL_TIMEOUT at most, within its store deadline.
    DB_POOL_SIZE: PositiveInt = 30
    DB_MAX_OVERFLOW: NonNegativeInt = 0
    DB_POOL_TIMEOUT: PositiveFloat = 10.0
    DB_POOL_RECYCLE: int = 1800
    DB_QUERY_TIMEOUT: float = Field(default=30.0, gt=0, description="statement_timeout, seconds")
    DB_CONNECT_TIMEOUT: PositiveFloat = 5.0
    DB_ECHO: bool = False
    DB_RETRY_MAX_ATTEMPTS: int = Field(default=4, ge=1, le=20)
    DB_RETRY_BASE_DELAY: NonNegativeFloat = 0.05
    DB_RETRY_MAX_DELAY: NonNegativeFloat = 2.0

    # Redis
    REDIS_URL: str = f"redis://{local_ports.HOST}:{local_ports.REDIS_PORT}/0"
    REDIS_MAX_CONNECTIONS: PositiveInt = 100
    REDIS_TIMEOUT: PositiveFloat = 2.0
    REDIS_KEY_PREFIX: str = "quartet:"
    REDIS_CLUSTER_NODES: str = Field(
        default="",
        description="host:port,... of a Redis Cluster's nodes; empty = the one Redis at REDIS_URL",
    )
    REDIS_REVOCATION_REPLICAS: int = Field(
        default=0,
        ge=0,
        description="replicas that must confirm a revocation (WAIT) before it is acknowledged",
    )
    REDIS_REVOCATION_WAIT_MS: PositiveInt = 500

    # MongoDB
    MONGODB_URL: str = (
        f"mongodb://{local_ports.HOST}:{local_ports.MONGO_PORT}/?directConnection=true"
    )
    MONGODB_DB: str = "quartet"
    MONGODB_TIMEOUT_MS: int = Field(default=3000, ge=100)
    # auto: multi-document transactions when the server has them (replica set, mongos,
    # SecantusDB); off: guarded single-document writes undone by compensation on failure.
    MONGODB_TRANSACTIONS: Literal["auto", "on", "off"] = "auto"

    # Backups (`quartet backup mongo`): where they go and how many of the newest are kept
    BACKUP_DIR: Path = Path("backups")
    BACKUP_KEEP: int = Field(default=24, ge=1, le=10_000)

    # Cassandra
    CASSANDRA_CONTACT_POINTS: StrList = ["127.0.0.1"]
    CASSANDRA_PORT: int = local_ports.CASSANDRA_PORT
    CASSANDRA_KEYSPACE: str = Field(default="quartet", pattern=r"^[a-z][a-z0-9_]{0,47}$")
    CASSANDRA_REPLICATION: dict[str, Any] = {"class": "SimpleStrategy", "replication_factor": 1}
    CASSANDRA_LOCAL_DC: str = "datacenter1"
    CASSANDRA_CONSISTENCY: str = "LOCAL_QUORUM"
    CASSANDRA_CONNECT_TIMEOUT: PositiveFloat = 5.0
    CASSANDRA_REQUEST_TIMEOUT: PositiveFloat = 10.0
    # Reads not answered within this many ms go to another replica too, up to _MAX extra times
    # (0: off; worth it on a ring, where a slow or dying node would otherwise set the p99)
    CASSANDRA_SPECULATIVE_DELAY_MS: float = Field(default=0.0, ge=0, le=10_000)
    CASSANDRA_SPECULATIVE_MAX: int = Field(default=1, ge=1, le=5)
    CASSANDRA_APPLY_SCHEMA_ON_START: bool = True

    # Event log (Cassandra) and the in-process activity writer
    EVENTS_TTL_DAYS: int = Field(default=0, ge=0, le=3650, description="0 keeps events forever")
    ACTIVITY_QUEUE_MAX: int = Field(default=10_000, ge=1, le=1_000_000)
    ACTIVITY_BATCH_SIZE: int = Field(default=100, ge=1, le=1000)
    ACTIVITY_RETRY_MAX_DELAY: float = Field(default=10.0, gt=0, le=300)
    ACTIVITY_SHUTDOWN_TIMEOUT: float = Field(default=5.0, ge=0, le=300)

    # Monitoring, probes, limits
    SLOW_QUERY_MS: NonNegativeFloat = 200.0
    SLOW_QUERY_LOG_SIZE: PositiveInt = 100
    HEALTH_CHECK_TIMEOUT: PositiveFloat = 2.0
    RATE_LIMIT_PER_MINUTE: PositiveInt = 60
    AUTH_RATE_LIMIT_PER_MINUTE: PositiveInt = 20

    # Observability: /metrics (see README "Operating Quartet"), Sentry and OpenTelemetry opt-in
    METRICS_ENABLED: bool = True
    METRICS_TOKEN: SecretStr | None = None
    METRICS_PUBLIC: bool = False  # production serves /metrics without a token only if true
    METRICS_SAMPLE_INTERVAL: float = Field(default=5.0, ge=0.5, le=300)
    EVENT_LOOP_PROBE_INTERVAL: float = Field(default=0.5, ge=0.05, le=60)
    GIT_SHA: str | None = Field(default=None, max_length=64)
    SENTRY_DSN: SecretStr | None = None
    SENTRY_SAMPLE_RATE: float = Field(default=1.0, ge=0, le=1)
    SENTRY_TRACES_SAMPLE_RATE: float = Field(default=0.0, ge=0, le=1)
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    OTEL_SERVICE_NAME: str = "quartet"
    OTEL_TRACES_SAMPLE_RATIO: float = Field(default=1.0, ge=0, le=1)

    # Authentication
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ISSUER: str = "quartet"
    JWT_AUDIENCE: str = "quartet-api"
    ACCESS_TOKEN_EXPIRE_MINUTES: PositiveInt = 60
    SESSION_TOKEN_EXPIRE_DAYS: PositiveInt = 7
    REFRESH_TOKEN_EXPIRE_DAYS: PositiveInt = 30
    BCRYPT_ROUNDS: int = Field(default=12, ge=4, le=16)
    # One core is left to the event loop, so hashing never stalls other requests.
    PASSWORD_HASH_WORKERS: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1, le=32
    )
    PASSWORD_MIN_LENGTH: int = Field(default=8, ge=6)
    PASSWORD_MAX_LENGTH: int = Field(default=128, ge=16, le=1024)
    ACCOUNT_LOCKOUT_THRESHOLD: PositiveInt = 5
    ACCOUNT_LOCKOUT_DURATION_MINUTES: PositiveInt = 30

    # SPA sessions: refresh reuse grace window, token transport and CSRF (README: Authentication)
    REFRESH_REUSE_GRACE_SECONDS: int = Field(default=10, ge=0, le=300, description="0: strict")
    AUTH_TRANSPORT: Literal["bearer", "cookie", "both"] = "both"
    AUTH_COOKIE_SECURE: bool = True
    CSRF_COOKIE_DOMAIN: str | None = None

    # Activity sessions (session:{user_id}) and the read cache
    SESSION_TTL_SECONDS: int = Field(default=1800, ge=1, le=86_400)
    SESSION_IDLE_LOGOUT: bool = False
    CACHE_TTL_SECONDS: int = Field(default=300, ge=1, le=86_400)

    # Media uploads (quartet.media): objects on local disk or any S3-compatible store
    MEDIA_STORAGE: Literal["local", "s3"] = "local"
    MEDIA_ROOT: Path = Path("media")
    MEDIA_MAX_BYTES: int = Field(default=15 * 1024 * 1024, ge=1024, le=5 * 1024**3)
    MEDIA_MAX_IMAGE_PIXELS: int = Field(default=40_000_000, ge=1, le=1_000_000_000)
    MEDIA_IMAGE_WORKERS: int = Field(default=2, ge=1, le=32)
    MEDIA_URL_EXPIRE_SECONDS: int = Field(default=3600, ge=60, le=7 * 86_400)
    MEDIA_FETCH_TIMEOUT_SECONDS: float = Field(default=20.0, gt=0, le=300)
    MEDIA_FETCH_MAX_REDIRECTS: int = Field(default=3, ge=0, le=10)
    MEDIA_FETCH_ALLOWED_NETWORKS: StrList = []
    MEDIA_SWEEP_INTERVAL_SECONDS: int = Field(default=3600, ge=0, description="0: no sweep")
    MEDIA_ORPHAN_GRACE_SECONDS: NonNegativeInt = 3600
    MEDIA_S3_ENDPOINT_URL: str | None = None
    MEDIA_S3_BUCKET: str = Field(default="quartet-media", min_length=3, max_length=63)
    MEDIA_S3_REGION: str = "us-east-1"
    MEDIA_S3_ACCESS_KEY_ID: SecretStr | None = None
    MEDIA_S3_SECRET_ACCESS_KEY: SecretStr | None = None
    MEDIA_S3_ADDRESSING_STYLE: Literal["auto", "path", "virtual"] = "auto"
    MEDIA_S3_CREATE_BUCKET: bool = False
    MEDIA_S3_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=300)
    # Account lifecycle: email links, one-time codes, and the notification outbox
    FRONTEND_BASE_URL: str = "http://localhost:5173"
    EMAIL_VERIFICATION_TOKEN_HOURS: int = Field(default=24, ge=1, le=720)
    PASSWORD_RESET_TOKEN_MINUTES: int = Field(default=30, ge=1, le=1440)
    OTP_TTL_SECONDS: int = Field(default=600, ge=30, le=3600)
    OTP_MAX_ATTEMPTS: int = Field(default=5, ge=1, le=20)
    OTP_RESEND_COOLDOWN_SECONDS: int = Field(default=60, ge=1, le=3600)
    OTP_SENDS_PER_IDENTIFIER_PER_HOUR: PositiveInt = 5
    OTP_SENDS_PER_CLIENT_PER_HOUR: PositiveInt = 20
    OTP_PROOF_TTL_SECONDS: int = Field(default=600, ge=30, le=3600)
    EMAIL_BACKEND: Literal["smtp", "resend"] = "smtp"
    EMAIL_FROM: str = "Quartet <no-reply@example.com>"
    SMTP_HOST: str = local_ports.HOST
    SMTP_PORT: int = local_ports.MAILPIT_SMTP_PORT
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_SECURITY: Literal["none", "starttls", "tls"] = "none"
    RESEND_API_KEY: SecretStr | None = None
    RESEND_API_URL: str = "https://api.resend.com"
    SMS_BACKEND: Literal["twilio_sms", "none"] = "none"
    WHATSAPP_BACKEND: Literal["twilio_whatsapp", "none"] = "none"
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_SMS_FROM: str | None = None
    TWILIO_WHATSAPP_FROM: str | None = None
    TWILIO_API_URL: str = "https://api.twilio.com"
    NOTIFY_PROVIDER_TIMEOUT: float = Field(default=10.0, gt=0, le=120)
    NOTIFY_BATCH_SIZE: int = Field(default=20, ge=1, le=500)
    NOTIFY_POLL_SECONDS: float = Field(default=2.0, gt=0, le=300)
    NOTIFY_MAX_ATTEMPTS: int = Field(default=8, ge=1, le=50)
    NOTIFY_RETRY_BASE_SECONDS: float = Field(default=5.0, ge=0, le=3600)
    NOTIFY_RETRY_MAX_SECONDS: float = Field(default=900.0, ge=0, le=86_400)
    NOTIFY_DISPATCHER_ENABLED: bool = True
    # Social login (quartet.oauth). Providers come from OAUTH_<NAME>_CLIENT_ID/_CLIENT_SECRET
    # (and _ISSUER for any OpenID Connect provider but the built-in google and github).
    OAUTH_PROVIDERS: dict[str, OAuthClientSettings] = {}
    OAUTH_FRONTEND_CALLBACK_PATH: str = Field(default="/oauth/callback", pattern=r"^/[^/\\]")
    OAUTH_CALLBACK_BASE_URL: str | None = None
    OAUTH_STATE_TTL_SECONDS: int = Field(default=600, ge=60, le=3600)
    OAUTH_HANDOFF_TTL_SECONDS: int = Field(default=60, ge=5, le=600)
    OAUTH_HTTP_TIMEOUT: float = Field(default=10.0, gt=0, le=60)
    OAUTH_GITHUB_BASE_URL: str = "https://github.com"
    OAUTH_GITHUB_API_URL: str = "https://api.github.com"

    # Profile, settings, account erasure and the dashboard (quartet.profile, .erasure, .dashboard)
    SUPPORTED_LANGUAGES: StrList = ["en", "en-GB", "en-US", "fr", "de", "es", "it", "pt", "pt-BR"]
    ERASURE_WORKER_ENABLED: bool = True
    ERASURE_POLL_SECONDS: float = Field(default=10.0, gt=0, le=3600)
    ERASURE_RETRY_BASE_SECONDS: float = Field(default=5.0, gt=0, le=3600)
    ERASURE_RETRY_MAX_SECONDS: float = Field(default=600.0, gt=0, le=86_400)
    DASHBOARD_CACHE_TTL_SECONDS: int = Field(default=30, ge=1, le=3600)

    # First superuser (quartet db seed)
    FIRST_SUPERUSER_EMAIL: str = "admin@example.com"
    FIRST_SUPERUSER_PASSWORD: SecretStr = SecretStr(DEV_SUPERUSER_PASSWORD)

    _split = field_validator(
        "BACKEND_CORS_ORIGINS",
        "TRUSTED_PROXIES",
        "CASSANDRA_CONTACT_POINTS",
        "MEDIA_FETCH_ALLOWED_NETWORKS",
        "ALLOWED_HOSTS",
        "SUPPORTED_LANGUAGES",
        mode="before",
    )(_split_list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_sources = [
            source
            for source in (dotenv_settings, env_settings)
            if isinstance(source, EnvSettingsSource)
        ]
        oauth = _OAuthProvidersSource(settings_cls, init_settings, *env_sources)
        return init_settings, oauth, env_settings, dotenv_settings, file_secret_settings

    @field_validator("API_V1_STR")
    @classmethod
    def _prefix(cls, value: str) -> str:
        """Accept `prod/v1` as well as `/api/v1` (seed 003's MODE prefix)."""
        value = "/" + value.strip("/")
        return "" if value == "/" else value

    @field_validator("CASSANDRA_REPLICATION", mode="before")
    @classmethod
    def _replication(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.ENVIRONMENT != "production":
            return self
        problems = []
        if self.SECRET_KEY.get_secret_value() == DEV_SECRET_KEY:
            problems.append("SECRET_KEY is the development default; set a long random value")
        if len(self.SECRET_KEY.get_secret_value()) < 32:
            problems.append("SECRET_KEY must be at least 32 characters")
        if "*" in self.BACKEND_CORS_ORIGINS:
            problems.append("BACKEND_CORS_ORIGINS contains '*'; list the SPA origins explicitly")
        if "*" in self.ALLOWED_HOSTS:
            problems.append("ALLOWED_HOSTS contains '*'; list the host names the API answers to")
        if self.FIRST_SUPERUSER_PASSWORD.get_secret_value() == DEV_SUPERUSER_PASSWORD:
            problems.append("FIRST_SUPERUSER_PASSWORD is the development default")
        if not self.AUTH_COOKIE_SECURE:
            problems.append("AUTH_COOKIE_SECURE is off; that is for local http development only")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def is_dev(self) -> bool:
        return self.ENVIRONMENT in ("dev", "test")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
