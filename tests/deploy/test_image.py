"""The Dockerfile, read as a build would: runtime dependencies only and hash-checked, a non-root
user shared with Kubernetes, tini as PID 1, writes only to declared volumes, every COPY source
inside the build context .dockerignore leaves."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.deploy.manifests import (
    DOCKERFILE,
    app_services,
    dockerfile_stages,
    dockerignore_admits,
    k8s,
    pod_spec,
    stage_chain,
    stage_env,
    stage_json,
    workloads,
)

OCI_LABELS = ("title", "description", "version", "revision", "created")


def _image_user() -> int:
    [user] = dockerfile_stages()["runtime"].values("USER")
    uid, _, gid = user.partition(":")
    assert uid == gid
    return int(uid)


def test_stages_and_bases() -> None:
    stages = dockerfile_stages()
    assert list(stages)[-1] == "api"  # the default target
    assert stages["python"].base.startswith("python:3.11-slim")
    assert [stage.name for stage in stage_chain("api")] == ["python", "runtime", "api"]
    assert [stage.name for stage in stage_chain("backup")] == ["python", "runtime", "backup"]


def test_dependencies_are_the_locked_runtime_set() -> None:
    text = DOCKERFILE.read_text()
    assert "requirements/dev.txt" not in text
    runs = " ".join(dockerfile_stages()["builder"].values("RUN"))
    assert (
        "uv pip sync --python /opt/venv/bin/python --require-hashes requirements/main.txt" in runs
    )
    assert "--no-deps ." in runs
    runtime_copies = dockerfile_stages()["runtime"].values("COPY")
    assert "--from=builder /opt/venv /opt/venv" in runtime_copies


def test_runs_as_non_root_under_tini() -> None:
    assert _image_user() >= 1000
    assert stage_json("api", "ENTRYPOINT") == ["tini", "--"]
    assert stage_json("api", "CMD") == ["quartet", "serve"]


def test_oci_labels() -> None:
    labels = " ".join(dockerfile_stages()["runtime"].values("LABEL"))
    for label in OCI_LABELS:
        assert f"org.opencontainers.image.{label}=" in labels


def test_copy_sources_are_in_the_build_context() -> None:
    for stage in dockerfile_stages().values():
        for arguments in stage.values("COPY"):
            if arguments.startswith("--from"):
                continue
            *sources, _ = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert dockerignore_admits(source), source


@pytest.mark.parametrize(
    "path", [".env", ".venv/bin/python", ".services/redis", "tests/conftest.py"]
)
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert not dockerignore_admits(path)


def test_writes_go_only_to_declared_volumes() -> None:
    volumes = {
        name: re.findall(r'"([^"]+)"', " ".join(stage.values("VOLUME")))
        for name, stage in dockerfile_stages().items()
    }
    assert volumes["runtime"] == ["/tmp"]  # noqa: S108 - a tmpfs in compose, emptyDir in k8s
    assert volumes["backup"] == [stage_env("backup")["BACKUP_DIR"]]
    for name, service in app_services().items():
        assert service["read_only"] is True, name
        assert any(t.split(":")[0] == "/tmp" for t in service["tmpfs"]), name  # noqa: S108


def test_kubernetes_pods_run_as_the_image_user_read_only() -> None:
    for workload in workloads():
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsUser"] == _image_user()
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}  # noqa: S108
            assert set(container["resources"]) == {"requests", "limits"}


def test_kubernetes_image_is_the_kustomize_image() -> None:
    images = {container["image"] for w in workloads() for container in pod_spec(w)["containers"]}
    assert images == {"quartet"}
    assert k8s("Deployment", "quartet-api")["spec"].get("replicas") is None  # the HPA's job
