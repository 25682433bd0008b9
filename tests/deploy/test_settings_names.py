"""Every environment variable the deployment files give the app is a real Settings field with a
valid value, and .env.example lists every setting. Read from Settings.model_fields, so settings
added later are held to the same rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from quartet.settings import Settings
from tests.deploy.manifests import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    app_services,
    compose_environment,
    env_example_names,
    env_file,
    interpolated_names,
    k8s,
    k8s_config,
    kustomizations,
    pod_spec,
    stage_env,
    workloads,
)

SETTINGS = frozenset(Settings.model_fields)
# The interpreter's own variables, set in the image beside the app's settings.
INTERPRETER_ENV = frozenset({"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"})
STRONG_SECRETS = {
    "SECRET_KEY": "a-long-random-production-secret-0123456789abcdef",
    "FIRST_SUPERUSER_PASSWORD": "not-the-default-superuser-password-42",
}


def _settings(values: dict[str, str]) -> Settings:
    fields = {name: value for name, value in values.items() if name in SETTINGS}
    return Settings(_env_file=None, **fields)  # type: ignore[arg-type]


def _compose_values(service: str) -> dict[str, str]:
    """What the app sees in a compose container: the image's ENV, then .env (env_file), then
    the service's environment."""
    return {
        **stage_env("api"),
        **env_file(ENV_EXAMPLE),
        **compose_environment(app_services()[service]),
    }


def _secret_template() -> dict[str, str]:
    data: dict[str, str] = k8s("Secret", "quartet-secrets")["stringData"]
    return data


def test_env_example_lists_every_setting() -> None:
    assert sorted(SETTINGS - env_example_names()) == []


def test_env_example_names_are_settings_or_compose_variables() -> None:
    """A name that is no setting must at least be one compose.yaml substitutes."""
    others = env_example_names() - SETTINGS
    assert sorted(others - interpolated_names(COMPOSE_FILE.read_text())) == []


def test_compose_variables_are_listed_in_env_example() -> None:
    assert sorted(interpolated_names(COMPOSE_FILE.read_text()) - env_example_names()) == []


@pytest.mark.parametrize("service", sorted(app_services()))
def test_compose_app_environment_names_are_settings(service: str) -> None:
    names = set(compose_environment(app_services()[service]))
    assert names, service
    assert sorted(names - SETTINGS) == []


@pytest.mark.parametrize("stage", ["api", "backup"])
def test_image_environment_names_are_settings(stage: str) -> None:
    assert sorted(set(stage_env(stage)) - SETTINGS - INTERPRETER_ENV) == []


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: p.parent.name)
def test_kubernetes_config_names_are_settings(kustomization: Path) -> None:
    config = k8s_config(kustomization)
    assert config
    assert sorted(set(config) - SETTINGS) == []


def test_kubernetes_secret_template_names_are_settings() -> None:
    assert sorted(set(_secret_template()) - SETTINGS) == []


def test_kubernetes_workloads_take_settings_from_the_config_and_secret() -> None:
    for workload in workloads():
        for container in pod_spec(workload)["containers"]:
            explicit = {item["name"] for item in container.get("env", [])}
            assert sorted(explicit - SETTINGS) == []
            sources = {
                next(iter(source)): next(iter(source.values()))["name"]
                for source in container["envFrom"]
            }
            assert sources == {"configMapRef": "quartet-config", "secretRef": "quartet-secrets"}


@pytest.mark.parametrize("service", sorted(app_services()))
def test_compose_settings_are_valid_once_the_secrets_are_set(service: str) -> None:
    settings = _settings({**_compose_values(service), **STRONG_SECRETS})
    assert settings.ENVIRONMENT == "production"
    assert settings.CASSANDRA_REPLICATION["class"] == "NetworkTopologyStrategy"
    assert not settings.CASSANDRA_APPLY_SCHEMA_ON_START


@pytest.mark.parametrize("service", sorted(app_services()))
def test_compose_refuses_the_example_secrets(service: str) -> None:
    """Copying .env.example without changing it gives containers that refuse to start."""
    with pytest.raises(ValidationError) as refused:
        _settings(_compose_values(service))
    message = str(refused.value)
    assert "SECRET_KEY" in message
    assert "FIRST_SUPERUSER_PASSWORD" in message


@pytest.mark.parametrize("kustomization", kustomizations(), ids=lambda p: p.parent.name)
def test_kubernetes_settings_are_valid(kustomization: Path) -> None:
    values = {**stage_env("api"), **k8s_config(kustomization), **_secret_template()}
    settings = _settings(values)
    assert settings.ENVIRONMENT == "production"
    assert settings.CASSANDRA_REPLICATION["class"] == "NetworkTopologyStrategy"
    assert settings.CASSANDRA_LOCAL_DC in settings.CASSANDRA_REPLICATION
    assert "replicaSet=" in settings.MONGODB_URL
