"""The scheduled MongoDB backup matches seed 002 ("Automatic hourly backup", "Only the last 24
backups are retained") in compose (supercronic in the image's `backup` target) and Kubernetes
(a CronJob), and its commands are ones the `quartet` CLI accepts."""

from __future__ import annotations

import shlex

import pytest

from quartet.cli import build_parser
from quartet.settings import Settings
from tests.conftest import ROOT
from tests.deploy.manifests import (
    CRONTAB,
    app_services,
    compose_environment,
    compose_service,
    crontab_entries,
    dockerfile_stages,
    k8s,
    k8s_config,
    kustomizations,
    pod_spec,
    quartet_commands,
    stage_json,
    workloads,
)

SEED_002_SCHEDULE = "0 * * * *"  # every hour, on the hour
SEED_002_KEEP = 24
BACKUP_COMMAND = ["quartet", "backup", "mongo"]


def _backup_volume_target(volumes: list[str]) -> str:
    [target] = [v.split(":")[1] for v in volumes if v.startswith("backups:")]
    return target


def test_crontab_runs_the_backup_hourly() -> None:
    assert crontab_entries() == [(SEED_002_SCHEDULE, shlex.join(BACKUP_COMMAND))]


def test_compose_backup_runs_the_crontab_from_the_backup_image() -> None:
    service = compose_service("backup")
    assert service["build"]["target"] == "backup"
    assert "command" not in service  # the image's CMD: supercronic on the crontab
    stage = dockerfile_stages()["backup"]
    copies = [args.split() for args in stage.values("COPY") if not args.startswith("--from")]
    assert [str(CRONTAB.relative_to(ROOT)), "/etc/quartet/crontab"] in copies
    command = stage_json("backup", "CMD")
    assert command[0] == "supercronic"
    assert command[-1] == "/etc/quartet/crontab"


def test_compose_backup_keeps_24_on_its_volume() -> None:
    service = compose_service("backup")
    environment = compose_environment(service)
    assert int(environment["BACKUP_KEEP"]) == SEED_002_KEEP
    assert environment["BACKUP_DIR"] == _backup_volume_target(service["volumes"])


def test_kubernetes_cronjob_backs_up_hourly_keeping_24() -> None:
    cronjob = k8s("CronJob", "quartet-backup")
    assert cronjob["spec"]["schedule"] == SEED_002_SCHEDULE
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    [container] = pod_spec(cronjob)["containers"]
    assert container["command"] == BACKUP_COMMAND
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    claims = {
        volume["name"]: volume["persistentVolumeClaim"]["claimName"]
        for volume in pod_spec(cronjob)["volumes"]
        if "persistentVolumeClaim" in volume
    }
    assert claims == {
        "backups": k8s("PersistentVolumeClaim", "quartet-backups")["metadata"]["name"]
    }
    for kustomization in kustomizations():
        config = k8s_config(kustomization)
        assert int(config["BACKUP_KEEP"]) == SEED_002_KEEP
        assert config["BACKUP_DIR"] == mounts["backups"]


def test_retention_default_is_seed_002s() -> None:
    assert Settings.model_fields["BACKUP_KEEP"].default == SEED_002_KEEP


def _commands() -> list[tuple[str, list[str]]]:
    found = [("crontab", shlex.split(command)) for _, command in crontab_entries()]
    found.append(("Dockerfile api CMD", stage_json("api", "CMD")))
    for name, service in app_services().items():
        if "command" in service:
            found += [(f"compose {name}", c) for c in quartet_commands(service["command"])]
    for workload in workloads():
        for container in pod_spec(workload)["containers"]:
            if "command" in container:
                found += [
                    (f"k8s {workload['metadata']['name']}", c)
                    for c in quartet_commands(container["command"])
                ]
    return found


@pytest.mark.parametrize(("source", "command"), _commands(), ids=lambda v: str(v))
def test_quartet_commands_parse(source: str, command: list[str]) -> None:
    assert command[0] == "quartet", source
    build_parser().parse_args(command[1:])


def test_migrations_run_before_the_api_in_both() -> None:
    steps = [["quartet", "db", "upgrade"], ["quartet", "db", "seed"], ["quartet", "schema"]]
    assert quartet_commands(compose_service("migrate")["command"]) == steps
    [job] = pod_spec(k8s("Job", "quartet-migrate"))["containers"]
    assert quartet_commands(job["command"]) == steps
    depends = compose_service("api")["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
