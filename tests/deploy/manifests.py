"""Read the deployment files as their tools would: compose.yaml interpolated with .env.example,
the Dockerfile's stages, the Kubernetes base and overlays, nginx's settings, env files."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
K8S = ROOT / "docker" / "k8s"
K8S_BASE = K8S / "base"
NGINX = ROOT / "docker" / "nginx"
CRONTAB = ROOT / "docker" / "backup" / "crontab"

Document = dict[str, Any]

_ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_file(path: Path) -> dict[str, str]:
    """The NAME=value lines a dotenv reader (Compose, kustomize's `envs`) takes."""
    values = {}
    for line in path.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match and not match.group(1):
            values[match.group(2)] = match.group(3)
    return values


def env_example_names() -> set[str]:
    """Every name .env.example lists, set or commented out with its default."""
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            names.add(match.group(2))
    return names


# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, $$
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, for the forms compose.yaml uses."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if name is None:
            return "$"
        value = env.get(name)
        present = value is not None and (value != "" or not (operator or "").startswith(":"))
        if operator in ("-", ":-"):
            return value if present and value is not None else argument
        if operator in ("?", ":?"):
            if not present or value is None:
                raise ValueError(f"required variable {name} is missing: {argument}")
            return value
        if operator in ("+", ":+"):
            return argument if present else ""
        return value or ""

    return _INTERPOLATION.sub(substitute, text)


def interpolated_names(text: str) -> set[str]:
    return {m.group(1) for m in _INTERPOLATION.finditer(text) if m.group(1)}


def _interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    return node


@cache
def compose() -> Document:
    """compose.yaml as `docker compose` sees it after `cp .env.example .env`."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    result: Document = _interpolate_tree(loaded, env_file(ENV_EXAMPLE))
    return result


def compose_service(name: str) -> Document:
    service: Document = compose()["services"][name]
    return service


def app_services() -> dict[str, Document]:
    """The compose services that run Quartet's image (built from docker/Dockerfile)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("build", {}).get("dockerfile") == "docker/Dockerfile"
    }


def compose_environment(service: Document) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def healthcheck_urls(test: list[str]) -> list[tuple[int, str]]:
    """(port, path) of every http://127.0.0.1 URL in a health check command."""
    found = re.findall(r"http://127\.0\.0\.1:(\d+)(/[\w/.-]*)", " ".join(test))
    return [(int(port), path) for port, path in found]


@dataclass
class Stage:
    """One FROM ... AS name section of the Dockerfile."""

    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [arguments for word, arguments in self.instructions if word == keyword]


@cache
def dockerfile_stages() -> dict[str, Stage]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        arguments = arguments.strip()
        if keyword == "FROM":
            base, _, alias = arguments.partition(" AS ")
            current = Stage(alias.strip(), base.strip())
            stages[current.name] = current
        elif current is not None:
            current.instructions.append((keyword, arguments))
    return stages


def stage_chain(name: str) -> list[Stage]:
    """A stage and the stages it is built FROM, base first."""
    stages = dockerfile_stages()
    chain = []
    while name in stages:
        chain.append(stages[name])
        name = stages[name].base
    return chain[::-1]


def stage_env(name: str) -> dict[str, str]:
    """ENV of a stage, inherited values included (`$VAR` references left as they are)."""
    env: dict[str, str] = {}
    for stage in stage_chain(name):
        for arguments in stage.values("ENV"):
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def stage_json(name: str, keyword: str) -> list[str]:
    """The exec-form (JSON) arguments of the last `keyword` in a stage or its bases."""
    for stage in reversed(stage_chain(name)):
        for arguments in reversed(stage.values(keyword)):
            start = arguments.index("[")
            value: list[str] = json.loads(arguments[start:])
            return value
    raise AssertionError(f"stage {name} has no {keyword}")


def dockerignore_admits(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching rule wins,
    and a rule matching a parent directory covers what is under it)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    admitted = True
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            admitted = negated
    return admitted


@cache
def k8s_documents() -> list[Document]:
    """Every manifest of the base plus the Secret template."""
    documents: list[Document] = []
    for path in sorted(K8S_BASE.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def k8s(kind: str, name: str) -> Document:
    for document in k8s_documents():
        if document["kind"] == kind and document["metadata"]["name"] == name:
            return document
    raise AssertionError(f"no {kind}/{name} in {K8S_BASE}")


def kustomizations() -> list[Path]:
    return sorted(K8S.glob("**/kustomization.yaml"))


def k8s_config(kustomization: Path) -> dict[str, str]:
    """The quartet-config ConfigMap a kustomization generates (an overlay merges into its base)."""
    spec = yaml.safe_load(kustomization.read_text())
    values: dict[str, str] = {}
    for resource in spec.get("resources", []):
        base = (kustomization.parent / resource / "kustomization.yaml").resolve()
        if base.exists():
            values.update(k8s_config(base))
    for generator in spec.get("configMapGenerator", []):
        for env in generator.get("envs", []):
            values.update(env_file(kustomization.parent / env))
    return values


def pod_spec(document: Document) -> Document:
    """The pod template's spec of a Deployment, Job or CronJob."""
    spec = document["spec"]
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: Document = spec["template"]["spec"]
    return pod


def workloads() -> list[Document]:
    return [d for d in k8s_documents() if d["kind"] in ("Deployment", "Job", "CronJob")]


def nginx_config() -> str:
    paths = [NGINX / "nginx.conf", *sorted((NGINX / "snippets").glob("*.conf"))]
    return "\n".join(path.read_text() for path in paths)


def nginx_directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", nginx_config(), re.MULTILINE)


_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def nginx_size(value: str) -> int:
    """An nginx size (`1048576`, `512k`, `1m`, `1g`) in bytes."""
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip())
    assert match, f"not an nginx size: {value!r}"
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def crontab_entries() -> list[tuple[str, str]]:
    """(schedule, command) of each line of the backup crontab."""
    entries = []
    for line in CRONTAB.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            fields = line.split(None, 5)
            entries.append((" ".join(fields[:5]), fields[5]))
    return entries


def quartet_commands(command: list[str]) -> list[list[str]]:
    """The `quartet ...` invocations in a container command (`sh -c "a && b"` included)."""
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]
