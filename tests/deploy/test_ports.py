"""Ports and addresses agree across the image, compose.yaml, nginx and Kubernetes."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from quartet.settings import Settings
from tests.conftest import ROOT
from tests.deploy.manifests import (
    compose,
    compose_environment,
    compose_service,
    dockerfile_stages,
    k8s,
    k8s_config,
    kustomizations,
    nginx_directive,
    pod_spec,
    stage_env,
)

IMAGE_PORT = int(stage_env("api")["SERVER_PORT"])


def _api_port_in_compose() -> int:
    environment = compose_environment(compose_service("api"))
    return int(environment.get("SERVER_PORT", IMAGE_PORT))


def _networks(service: str) -> set[str]:
    networks = compose_service(service).get("networks", [])
    return set(networks)


def test_image_exposes_the_port_it_serves() -> None:
    assert dockerfile_stages()["api"].values("EXPOSE") == [str(IMAGE_PORT)]
    assert stage_env("api")["SERVER_HOST"] == "0.0.0.0"  # noqa: S104 - the container's interface


def test_nginx_proxies_to_the_api_port() -> None:
    assert nginx_directive("server") == [f"api:{_api_port_in_compose()}"]
    assert "edge" in _networks("api") & _networks("nginx")


def test_kubernetes_ports_agree() -> None:
    container = pod_spec(k8s("Deployment", "quartet-api"))["containers"][0]
    [port] = container["ports"]
    for kustomization in kustomizations():
        assert int(k8s_config(kustomization)["SERVER_PORT"]) == port["containerPort"]
    service = k8s("Service", "quartet-api")
    [service_port] = service["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]
    backend = k8s("Ingress", "quartet-api")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"] == {"name": "quartet-api", "port": {"name": service_port["name"]}}
    policy = k8s("NetworkPolicy", "quartet-api")
    [allowed] = policy["spec"]["ingress"]
    assert [p["port"] for p in allowed["ports"]] == [port["containerPort"]]
    assert policy["spec"]["podSelector"]["matchLabels"] == service["spec"]["selector"]


def test_kubernetes_selectors_match_the_pods() -> None:
    deployment = k8s("Deployment", "quartet-api")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    for kind in ("Service", "PodDisruptionBudget"):
        document = k8s(kind, "quartet-api")["spec"]["selector"]
        assert document.get("matchLabels", document) == selector
    target = k8s("HorizontalPodAutoscaler", "quartet-api")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "quartet-api")


def test_compose_store_urls_name_reachable_services() -> None:
    api = compose_environment(compose_service("api"))
    services = compose()["services"]
    for setting, service, port in (
        ("DATABASE_URL", "postgres", 5432),
        ("REDIS_URL", "redis", 6379),
        ("MONGODB_URL", "mongo", 27017),
    ):
        url = urlsplit(api[setting])
        assert (url.hostname, url.port or port) == (service, port), setting
        assert service in services
        assert _networks(service) & _networks("api"), service
    assert api["CASSANDRA_CONTACT_POINTS"] == "cassandra"
    assert int(api["CASSANDRA_PORT"]) == 9042


def test_compose_mongo_replica_set_matches_its_init() -> None:
    api_url = urlsplit(compose_environment(compose_service("api"))["MONGODB_URL"])
    [replica_set] = parse_qs(api_url.query)["replicaSet"]
    command = compose_service("mongo")["command"]
    assert command[command.index("--replSet") + 1] == replica_set
    script = (ROOT / "docker" / "mongo" / "init-replica-set.js").read_text()
    assert re.search(
        rf'_id: "{replica_set}", members: \[\{{ _id: 0, host: "mongo:27017" }}\]', script
    )


def test_compose_cassandra_datacenter_matches_the_app() -> None:
    api = compose_environment(compose_service("api"))
    cassandra = compose_environment(compose_service("cassandra"))
    assert cassandra["CASSANDRA_ENDPOINT_SNITCH"] == "GossipingPropertyFileSnitch"
    assert api["CASSANDRA_LOCAL_DC"] == cassandra["CASSANDRA_DC"]
    expected = {"class": "NetworkTopologyStrategy", cassandra["CASSANDRA_DC"]: 1}
    settings = Settings(_env_file=None, CASSANDRA_REPLICATION=api["CASSANDRA_REPLICATION"])
    replication = settings.CASSANDRA_REPLICATION
    assert replication == expected


def test_compose_postgres_preloads_pg_stat_statements() -> None:
    """Migration 0001 creates the extension; it only collects when preloaded."""
    command = " ".join(compose_service("postgres")["command"])
    assert "shared_preload_libraries=pg_stat_statements" in command
