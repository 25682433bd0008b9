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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
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

    # PostgreSQL
    DATABASE_URL: str = f"postgresql+asyncpg://{local_ports.PG_SERVER}/quartet"
    DB_POOL_SIZE: int = Field(default=10, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=20, ge=0)
    DB_POOL_TIMEOUT: float = Field(default=10.0, gt=0)
    DB_POOL_RECYCLE: int = 1800
    DB_QUERY_TIMEOUT: float = Field(default=30.0, gt=0, description="statement_timeout, seconds")
    DB_CONNECT_TIMEOUT: float = Field(default=5.0, gt=0)
    DB_ECHO: bool = False
    DB_RETRY_MAX_ATTEMPTS: int = Field(default=4, ge=1, le=20)
    DB_RETRY_BASE_DELAY: float = Field(default=0.05, ge=0)
    DB_RETRY_MAX_DELAY: float = Field(default=2.0, ge=0)

    # Redis
    REDIS_URL: str = f"redis://{local_ports.HOST}:{local_ports.REDIS_PORT}/0"
    REDIS_MAX_CONNECTIONS: int = Field(default=100, ge=1)
    REDIS_TIMEOUT: float = Field(default=2.0, gt=0)
    REDIS_KEY_PREFIX: str = "quartet:"

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
    CASSANDRA_CONNECT_TIMEOUT: float = Field(default=5.0, gt=0)
    CASSANDRA_REQUEST_TIMEOUT: float = Field(default=10.0, gt=0)
    CASSANDRA_APPLY_SCHEMA_ON_START: bool = True

    # Event log (Cassandra) and the in-process activity writer
    EVENTS_TTL_DAYS: int = Field(default=0, ge=0, le=3650, description="0 keeps events forever")
    ACTIVITY_QUEUE_MAX: int = Field(default=10_000, ge=1, le=1_000_000)
    ACTIVITY_BATCH_SIZE: int = Field(default=100, ge=1, le=1000)
    ACTIVITY_RETRY_MAX_DELAY: float = Field(default=10.0, gt=0, le=300)
    ACTIVITY_SHUTDOWN_TIMEOUT: float = Field(default=5.0, ge=0, le=300)

    # Monitoring, probes, limits
    SLOW_QUERY_MS: float = Field(default=200.0, ge=0)
    SLOW_QUERY_LOG_SIZE: int = Field(default=100, ge=1)
    HEALTH_CHECK_TIMEOUT: float = Field(default=2.0, gt=0)
    RATE_LIMIT_PER_MINUTE: int = Field(default=60, ge=1)
    AUTH_RATE_LIMIT_PER_MINUTE: int = Field(default=20, ge=1)

    # Authentication
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ISSUER: str = "quartet"
    JWT_AUDIENCE: str = "quartet-api"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1)
    SESSION_TOKEN_EXPIRE_DAYS: int = Field(default=7, ge=1)
    REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=30, ge=1)
    BCRYPT_ROUNDS: int = Field(default=12, ge=4, le=16)
    # One core is left to the event loop, so hashing never stalls other requests.
    PASSWORD_HASH_WORKERS: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1), ge=1, le=32
    )
    PASSWORD_MIN_LENGTH: int = Field(default=8, ge=6)
    PASSWORD_MAX_LENGTH: int = Field(default=128, ge=16, le=1024)
    ACCOUNT_LOCKOUT_THRESHOLD: int = Field(default=5, ge=1)
    ACCOUNT_LOCKOUT_DURATION_MINUTES: int = Field(default=30, ge=1)

    # Activity sessions (session:{user_id}) and the read cache
    SESSION_TTL_SECONDS: int = Field(default=1800, ge=1, le=86_400)
    SESSION_IDLE_LOGOUT: bool = False
    CACHE_TTL_SECONDS: int = Field(default=300, ge=1, le=86_400)

    # Social login (quartet.oauth). Providers come from OAUTH_<NAME>_CLIENT_ID/_CLIENT_SECRET
    # (and _ISSUER for any OpenID Connect provider but the built-in google and github).
    FRONTEND_BASE_URL: str = "http://localhost:5173"
    OAUTH_PROVIDERS: dict[str, OAuthClientSettings] = {}
    OAUTH_FRONTEND_CALLBACK_PATH: str = Field(default="/oauth/callback", pattern=r"^/[^/\\]")
    OAUTH_CALLBACK_BASE_URL: str | None = None
    OAUTH_STATE_TTL_SECONDS: int = Field(default=600, ge=60, le=3600)
    OAUTH_HANDOFF_TTL_SECONDS: int = Field(default=60, ge=5, le=600)
    OAUTH_HTTP_TIMEOUT: float = Field(default=10.0, gt=0, le=60)
    OAUTH_GITHUB_BASE_URL: str = "https://github.com"
    OAUTH_GITHUB_API_URL: str = "https://api.github.com"

    # First superuser (quartet db seed)
    FIRST_SUPERUSER_EMAIL: str = "admin@example.com"
    FIRST_SUPERUSER_PASSWORD: SecretStr = SecretStr(DEV_SUPERUSER_PASSWORD)

    _split = field_validator(
        "BACKEND_CORS_ORIGINS", "TRUSTED_PROXIES", "CASSANDRA_CONTACT_POINTS", mode="before"
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
        if self.FIRST_SUPERUSER_PASSWORD.get_secret_value() == DEV_SUPERUSER_PASSWORD:
            problems.append("FIRST_SUPERUSER_PASSWORD is the development default")
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
