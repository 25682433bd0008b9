"""Every probe and health check in the deployment files hits a real route of the app and gets
the answer its probe expects: liveness-style checks stay 200 while the stores are down (a
restart would not help), readiness-style checks turn 503 (the pod leaves the Service)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from quartet.settings import Settings
from tests.apps import unstarted_app
from tests.clients import http_for
from tests.deploy.manifests import (
    compose_service,
    dockerfile_stages,
    healthcheck_urls,
    k8s,
    pod_spec,
    stage_env,
    stage_json,
)

Role = Literal["liveness", "readiness"]

# All four stores at a port where nothing listens: connections are refused at once.
STORES_DOWN = {
    "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "MONGODB_URL": "mongodb://127.0.0.1:1/?directConnection=true",
    "MONGODB_TIMEOUT_MS": 500,
    "CASSANDRA_PORT": 1,
    "CASSANDRA_CONNECT_TIMEOUT": 1,
    "HEALTH_CHECK_TIMEOUT": 1.5,
}


@dataclass(frozen=True)
class Probe:
    source: str
    path: str
    port: int
    role: Role
    timeout_s: float


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration))


def _kubernetes_probes() -> list[Probe]:
    container = pod_spec(k8s("Deployment", "quartet-api"))["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    roles: dict[str, Role] = {
        "startupProbe": "liveness",
        "livenessProbe": "liveness",
        "readinessProbe": "readiness",
    }
    probes = []
    for key, role in roles.items():
        probe = container[key]
        port = probe["httpGet"]["port"]
        probes.append(
            Probe(
                f"k8s {key}",
                probe["httpGet"]["path"],
                ports[port] if isinstance(port, str) else port,
                role,
                float(probe["timeoutSeconds"]),
            )
        )
    return probes


def _compose_probe() -> Probe:
    """The compose api health check gates nginx on the stores answering: readiness."""
    check = compose_service("api")["healthcheck"]
    [(port, path)] = healthcheck_urls(check["test"])
    return Probe("compose api healthcheck", path, port, "readiness", _seconds(check["timeout"]))


def _image_probe() -> Probe:
    """The image's HEALTHCHECK (used where nothing overrides it): liveness."""
    [instruction] = dockerfile_stages()["api"].values("HEALTHCHECK")
    command = " ".join(stage_json("api", "HEALTHCHECK"))
    assert "os.environ['SERVER_PORT']" in command
    path = re.search(r"'(/[\w/.-]+)'", command)
    timeout = re.search(r"--timeout=(\S+)", instruction)
    assert path, command
    assert timeout, instruction
    port = int(stage_env("api")["SERVER_PORT"])
    return Probe("Dockerfile HEALTHCHECK", path[1], port, "liveness", _seconds(timeout[1]))


PROBES = [*_kubernetes_probes(), _compose_probe(), _image_probe()]


@pytest.fixture(scope="module")
async def stores_down_http() -> AsyncIterator[httpx.AsyncClient]:
    async with unstarted_app(**STORES_DOWN) as app, http_for(app) as http:
        yield http


def test_each_probe_role_is_covered() -> None:
    kinds = {(probe.source.split()[0], probe.role) for probe in PROBES}
    assert {("k8s", "liveness"), ("k8s", "readiness")} <= kinds


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.source)
def test_probe_path_is_a_get_route(probe: Probe, app: FastAPI) -> None:
    """A route of the app's own (its OpenAPI document lists it), not a catch-all."""
    operations = app.openapi()["paths"].get(probe.path, {})
    assert "get" in operations, f"{probe.source}: {probe.path} is not a GET route"


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.source)
async def test_probe_passes_when_the_stores_answer(
    probe: Probe, raw_client: httpx.AsyncClient
) -> None:
    response = await raw_client.get(probe.path)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.source)
async def test_probe_answer_when_the_stores_are_down(
    probe: Probe, stores_down_http: httpx.AsyncClient
) -> None:
    response = await stores_down_http.get(probe.path)
    if probe.role == "liveness":
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["error"] == "not_ready"
        assert set(body["failed"]) == {"postgres", "redis", "mongodb", "cassandra"}


@pytest.mark.parametrize(
    "probe", [p for p in PROBES if p.role == "readiness"], ids=lambda probe: probe.source
)
def test_readiness_waits_longer_than_the_store_checks(probe: Probe) -> None:
    """Readiness pings every store under HEALTH_CHECK_TIMEOUT: a shorter probe timeout would
    fail a pod whose stores are merely slow."""
    assert probe.timeout_s > Settings.model_fields["HEALTH_CHECK_TIMEOUT"].default


def test_probes_use_the_app_port() -> None:
    assert {probe.port for probe in PROBES} == {int(stage_env("api")["SERVER_PORT"])}
