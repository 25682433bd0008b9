"""Settings: production refuses unsafe defaults; list values from env; the API prefix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from quartet.settings import DEV_SECRET_KEY, DEV_SUPERUSER_PASSWORD, Settings
from tests.apps import unstarted_app
from tests.conftest import make_settings
from tests.conftest import test_env as app_env

SAFE_PRODUCTION: dict[str, object] = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k" * 40,
    "FIRST_SUPERUSER_PASSWORD": "a-real-production-password-42",
    "BACKEND_CORS_ORIGINS": ["https://app.example.com"],
}


def _refusal(**overrides: object) -> str:
    with pytest.raises(ValidationError) as raised:
        make_settings(**{**SAFE_PRODUCTION, **overrides})
    message = str(raised.value)
    assert "refusing to start in production" in message
    return message


def test_safe_production_settings_are_accepted() -> None:
    settings = make_settings(**SAFE_PRODUCTION)
    assert settings.ENVIRONMENT == "production"
    assert not settings.is_dev


def test_production_refuses_the_default_secret_key() -> None:
    message = _refusal(SECRET_KEY=DEV_SECRET_KEY)
    assert "SECRET_KEY is the development default" in message


def test_production_refuses_a_short_secret_key() -> None:
    message = _refusal(SECRET_KEY="too-short-but-not-default")
    assert "SECRET_KEY must be at least 32 characters" in message
    assert "development default" not in message


def test_production_refuses_wildcard_cors() -> None:
    message = _refusal(BACKEND_CORS_ORIGINS=["https://app.example.com", "*"])
    assert "BACKEND_CORS_ORIGINS contains '*'" in message


def test_production_refuses_the_default_superuser_password() -> None:
    message = _refusal(FIRST_SUPERUSER_PASSWORD=DEV_SUPERUSER_PASSWORD)
    assert "FIRST_SUPERUSER_PASSWORD is the development default" in message


def test_production_names_every_problem_at_once() -> None:
    message = _refusal(
        SECRET_KEY=DEV_SECRET_KEY,
        BACKEND_CORS_ORIGINS="*",
        FIRST_SUPERUSER_PASSWORD=DEV_SUPERUSER_PASSWORD,
    )
    for problem in ("SECRET_KEY", "BACKEND_CORS_ORIGINS", "FIRST_SUPERUSER_PASSWORD"):
        assert problem in message


def test_refusal_does_not_print_other_secrets() -> None:
    """The message names the problem; pydantic's `input_value` (every setting, the database
    password included) is hidden."""
    message = _refusal(
        SECRET_KEY="short-s3cret-key",
        DATABASE_URL="postgresql+asyncpg://app:db-pa55word@db.internal/quartet",
        MONGODB_URL="mongodb://app:mongo-pa55word@mongo.internal/",
    )
    for secret in ("short-s3cret-key", "db-pa55word", "mongo-pa55word", "input_value"):
        assert secret not in message


def test_dev_and_test_accept_the_defaults() -> None:
    for environment in ("dev", "test"):
        settings = make_settings(ENVIRONMENT=environment, BACKEND_CORS_ORIGINS="*")
        assert settings.is_dev
        assert settings.SECRET_KEY.get_secret_value() == DEV_SECRET_KEY


def test_secrets_are_not_shown_in_repr() -> None:
    settings = make_settings(**SAFE_PRODUCTION)
    assert "k" * 40 not in repr(settings)
    assert "a-real-production-password-42" not in repr(settings)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The test environment in real process variables (Settings reads them itself)."""
    for name, value in app_env().items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _from_env() -> Settings:
    return Settings(_env_file=None)


def test_comma_separated_list_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("BACKEND_CORS_ORIGINS", " https://a.example.com , https://b.example.com,, ")
    env.setenv("CASSANDRA_CONTACT_POINTS", "10.0.0.1,10.0.0.2")
    env.setenv("TRUSTED_PROXIES", "127.0.0.1")
    settings = _from_env()
    assert settings.BACKEND_CORS_ORIGINS == ["https://a.example.com", "https://b.example.com"]
    assert settings.CASSANDRA_CONTACT_POINTS == ["10.0.0.1", "10.0.0.2"]
    assert settings.TRUSTED_PROXIES == ["127.0.0.1"]


def test_json_list_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("BACKEND_CORS_ORIGINS", '["https://a.example.com", "http://localhost:5173"]')
    env.setenv("CASSANDRA_CONTACT_POINTS", '["cassandra-0", "cassandra-1"]')
    env.setenv("TRUSTED_PROXIES", "[]")
    settings = _from_env()
    assert settings.BACKEND_CORS_ORIGINS == ["https://a.example.com", "http://localhost:5173"]
    assert settings.CASSANDRA_CONTACT_POINTS == ["cassandra-0", "cassandra-1"]
    assert settings.TRUSTED_PROXIES == []


def test_json_replication_map_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("CASSANDRA_REPLICATION", '{"class": "NetworkTopologyStrategy", "dc1": 3}')
    settings = _from_env()
    assert settings.CASSANDRA_REPLICATION == {"class": "NetworkTopologyStrategy", "dc1": 3}


def test_production_refusal_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="SECRET_KEY is the development default"):
        _from_env()


def test_invalid_values_are_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("ENVIRONMENT", "staging")
    with pytest.raises(ValidationError, match="ENVIRONMENT"):
        _from_env()
    env.setenv("ENVIRONMENT", "test")
    env.setenv("CASSANDRA_KEYSPACE", "bad-name; DROP")
    with pytest.raises(ValidationError, match="CASSANDRA_KEYSPACE"):
        _from_env()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("prod/v1", "/prod/v1"),
        ("/prod/v1/", "/prod/v1"),
        ("api/v2", "/api/v2"),
        ("/api/v1", "/api/v1"),
        ("/", ""),
    ],
)
def test_api_prefix_is_normalised(given: str, expected: str) -> None:
    prefix = make_settings(API_V1_STR=given).API_V1_STR
    assert prefix == expected


async def test_api_prefix_is_where_the_versioned_routes_live() -> None:
    async with unstarted_app(API_V1_STR="prod/v1") as app:
        paths = list(app.openapi()["paths"])
    versioned = [p for p in paths if p.startswith("/prod/v1/")]
    assert versioned, paths
    assert not any(p.startswith("/api/v1") for p in paths)
    assert "/health/readiness" in paths  # probes carry no prefix
