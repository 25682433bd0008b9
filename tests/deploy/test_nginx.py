"""nginx in front of the compose stack: the app's body limit, its trusted proxy address, and
the edge duties the issue lists (rate limit, gzip, security headers, WebSocket-safe proxying)."""

from __future__ import annotations

import ipaddress

from quartet.settings import Settings
from tests.deploy.manifests import (
    K8S,
    compose,
    compose_environment,
    compose_service,
    k8s,
    k8s_config,
    kustomizations,
    nginx_config,
    nginx_directive,
    nginx_size,
)

BODY_LIMIT_DEFAULT = Settings.model_fields["MAX_REQUEST_BODY_BYTES"].default


def test_nginx_body_limit_equals_the_apps() -> None:
    api = compose_environment(compose_service("api"))
    [limit] = nginx_directive("client_max_body_size")
    assert nginx_size(limit) == int(api.get("MAX_REQUEST_BODY_BYTES", BODY_LIMIT_DEFAULT))


def test_ingress_body_limit_equals_the_apps() -> None:
    annotations = k8s("Ingress", "quartet-api")["metadata"]["annotations"]
    limit = nginx_size(annotations["nginx.ingress.kubernetes.io/proxy-body-size"])
    for kustomization in kustomizations():
        config = k8s_config(kustomization)
        assert limit == int(config.get("MAX_REQUEST_BODY_BYTES", BODY_LIMIT_DEFAULT)), (
            kustomization.relative_to(K8S)
        )


def test_the_app_trusts_exactly_nginx() -> None:
    """TRUSTED_PROXIES is nginx's fixed address, inside the edge network it shares with api."""
    nginx_address = compose_service("nginx")["networks"]["edge"]["ipv4_address"]
    [subnet] = [c["subnet"] for c in compose()["networks"]["edge"]["ipam"]["config"]]
    assert ipaddress.ip_address(nginx_address) in ipaddress.ip_network(subnet)
    for name in ("api", "migrate", "backup"):
        trusted = compose_environment(compose_service(name))["TRUSTED_PROXIES"]
        assert trusted.split(",") == [nginx_address], name


def test_nginx_sets_the_forwarded_headers_the_app_reads() -> None:
    headers = dict(value.split(None, 1) for value in nginx_directive("proxy_set_header"))
    # The peer address, not appended to: a client cannot plant an address the app would believe.
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Request-ID"] == "$request_id"
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] == "$connection_upgrade"


def test_nginx_edge_duties() -> None:
    config = nginx_config()
    assert nginx_directive("gzip") == ["on"]
    assert any("zone=per_ip" in zone for zone in nginx_directive("limit_req_zone"))
    assert nginx_directive("limit_req") == ["zone=per_ip burst=40 nodelay"]
    assert nginx_directive("limit_req_status") == ["429"]
    assert nginx_directive("server_tokens") == ["off"]
    assert nginx_directive("proxy_http_version") == ["1.1"]
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert f"add_header {header} " in config
        assert f"proxy_hide_header {header};" in config
    # An idle WebSocket is not cut before the app's own timeouts.
    assert all(nginx_size(t.rstrip("s")) >= 3600 for t in nginx_directive("proxy_read_timeout"))
