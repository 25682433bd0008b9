"""A local six-process Redis Cluster: three masters, three replicas, for tests and drills.

The same `redis-server` as scripts/services.py (installed with apt when missing), one process per
port of `quartet.local_ports.REDIS_CLUSTER_PORTS`, each with its data, log, PID file and
`nodes.conf` under `<services dir>/redis-cluster/<port>`. `up` starts what is not running,
creates the cluster once (`redis-cli --cluster create ... --cluster-replicas 1`) and waits until
every node says `cluster_state:ok` and every replica is in sync; it is idempotent. A node
stopped and started again rejoins by its `nodes.conf` (a master that lost its slots to a
promoted replica comes back as that replica's replica).

`cluster-node-timeout` is 2 s so a failed master is replaced within a few seconds, and
`cluster-replica-validity-factor 0` lets a replica take over however long its link was down.

For scripts/cluster.py and the drills: `up(dir) -> ["host:port", ...]` (REDIS_CLUSTER_NODES is
",".join of it), `down(dir)`, `wipe(dir)`, `status(dir)`, `wait_ok(dir)`, `masters()`,
`master_for_slot(slot)`, `master_for_key(key)`, `replica_of(port)`, `fail_master(port, dir,
freeze=False)` and `restart(port, dir)`; `dir` defaults to DEFAULT_DIR.

Usage: python scripts/redis_cluster.py up|down|status|wipe [--services-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from quartet import local_ports

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = Path(
    os.environ.get("QUARTET_REDIS_CLUSTER_DIR")
    or os.environ.get("QUARTET_SERVICES_DIR")
    or ROOT / ".services"
).resolve()
"""Where `redis-cluster/<port>` lives unless a caller says: QUARTET_REDIS_CLUSTER_DIR (a cluster
of one's own beside shared stores), else the services directory."""
HOST = local_ports.HOST
PORTS = local_ports.REDIS_CLUSTER_PORTS
NODE_TIMEOUT_MS = 2000
START_TIMEOUT = 60.0


def _services() -> ModuleType:
    """scripts/services.py (its apt install and PID helpers), loaded by path."""
    name = "quartet_services_script"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "services.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load scripts/services.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def node_dir(services_dir: Path, port: int) -> Path:
    return services_dir / "redis-cluster" / str(port)


def _pidfile(services_dir: Path, port: int) -> Path:
    return node_dir(services_dir, port) / "redis.pid"


def _marker(port: int) -> str:
    return f"{HOST}:{port}"


def _pid(services_dir: Path, port: int) -> int | None:
    """The node's process, if the PID file names a live redis-server on this port."""
    services = _services()
    pid: int | None = services._read_pid(_pidfile(services_dir, port))
    return pid if pid is not None and services._pid_alive(pid, _marker(port)) else None


def _client(port: int, timeout: float = 1.0) -> redis.Redis:
    """No retries: redis-py's default backs off for seconds before saying a node is down."""
    return redis.Redis(
        host=HOST,
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def _ask(port: int, *command: Any) -> Any:
    """One command to one node; None when it cannot answer."""
    client = _client(port)
    try:
        return client.execute_command(*command)  # type: ignore[no-untyped-call]
    except redis.RedisError:
        return None
    finally:
        client.close()


def _cluster_info(port: int) -> dict[str, str]:
    raw = _ask(port, "CLUSTER", "INFO")
    if not isinstance(raw, str):
        return {}
    return dict(line.split(":", 1) for line in raw.split() if ":" in line)


def _start(services_dir: Path, port: int) -> None:
    if _pid(services_dir, port) is not None:
        return
    path = node_dir(services_dir, port)
    path.mkdir(parents=True, exist_ok=True)
    cmd = [
        "redis-server",
        "--port", str(port),
        "--bind", HOST,
        "--daemonize", "yes",
        "--pidfile", str(_pidfile(services_dir, port)),
        "--logfile", str(path / "redis.log"),
        "--dir", str(path),
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        "--cluster-port", str(port + local_ports.REDIS_CLUSTER_BUS_OFFSET),
        "--cluster-replica-validity-factor", "0",
        "--repl-diskless-sync-delay", "0",  # a rejoining node syncs at once
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxclients", "2000",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=path)
    if result.returncode != 0:
        raise RuntimeError(f"redis-cluster {port}: start failed:\n{result.stdout}{result.stderr}")


def _wait(what: str, check: Any, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-cluster: timed out waiting for {what}")
        time.sleep(0.2)


def _created() -> bool:
    return any(int(_cluster_info(p).get("cluster_slots_assigned", "0")) > 0 for p in PORTS)


def _create() -> None:
    nodes = [f"{HOST}:{port}" for port in PORTS]
    cmd = ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "1"]
    result = subprocess.run([*cmd, "--cluster-yes"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"redis-cluster: create failed:\n{result.stdout}{result.stderr}")


def _replicas_in_sync(ports: list[int]) -> bool:
    for port in ports:
        info = _ask(port, "INFO", "replication")
        if not isinstance(info, dict):
            return False
        if info.get("role") == "slave" and info.get("master_link_status") != "up":
            return False
    return True


def wait_ok(services_dir: Path = DEFAULT_DIR, timeout: float = START_TIMEOUT) -> None:
    """Until every running node says `cluster_state:ok`, sees all 16384 slots served, and
    every running replica's link to its master is up."""
    running = [p for p in PORTS if _pid(services_dir, p) is not None]

    def ok() -> bool:
        infos = [_cluster_info(p) for p in running]
        return all(
            i.get("cluster_state") == "ok" and i.get("cluster_slots_ok") == "16384" for i in infos
        ) and _replicas_in_sync(running)

    _wait("cluster_state ok on every node", ok, timeout)


def startup_nodes() -> list[str]:
    return [f"{HOST}:{port}" for port in PORTS]


def up(services_dir: Path = DEFAULT_DIR) -> list[str]:
    """Start the six nodes (those not running), create the cluster if it never was, wait
    until it serves; returns the "host:port" startup nodes."""
    services_dir = services_dir.resolve()
    _services()._ensure_commands("redis", ["redis-server", "redis-cli"])
    for port in PORTS:
        _start(services_dir, port)
    _wait("the nodes to answer", lambda: all(_ask(p, "PING") for p in PORTS))
    if not _created():
        _create()
    wait_ok(services_dir)
    return startup_nodes()


def down(services_dir: Path = DEFAULT_DIR) -> None:
    """Stop every node (a frozen one is woken first so it can exit); data stays."""
    services_dir = services_dir.resolve()
    for port in PORTS:
        pid = _pid(services_dir, port)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
            _services()._stop_pid(pid, _marker(port), timeout=20)
        if _pid(services_dir, port) is None:
            _pidfile(services_dir, port).unlink(missing_ok=True)


def wipe(services_dir: Path = DEFAULT_DIR) -> None:
    """Stop the nodes and delete their data and cluster configuration."""
    down(services_dir)
    shutil.rmtree(services_dir.resolve() / "redis-cluster", ignore_errors=True)


def status(services_dir: Path = DEFAULT_DIR) -> list[dict[str, Any]]:
    """Per node: port, PID, role, cluster state and the master port of a replica."""
    services_dir = services_dir.resolve()
    rows = []
    for port in PORTS:
        replication = _ask(port, "INFO", "replication")
        replication = replication if isinstance(replication, dict) else {}
        rows.append(
            {
                "port": port,
                "pid": _pid(services_dir, port),
                "role": replication.get("role"),
                "master_port": replication.get("master_port"),
                "cluster_state": _cluster_info(port).get("cluster_state"),
            }
        )
    return rows


def masters() -> list[int]:
    """Ports of the masters that currently serve slots, as a live node sees the cluster."""
    return sorted({port for port, _ in _slot_ranges().values()})


def _slot_ranges() -> dict[tuple[int, int], tuple[int, int]]:
    """(first, last) slot → (master port, replica count), from the first node that answers."""
    for port in PORTS:
        slots = _ask(port, "CLUSTER", "SLOTS")
        if isinstance(slots, list) and slots:
            return {(s[0], s[1]): (int(s[2][1]), len(s) - 3) for s in slots}
    raise RuntimeError("redis-cluster: no node answers CLUSTER SLOTS")


def master_for_slot(slot: int) -> int:
    """The port of the master serving `slot`."""
    for (first, last), (port, _) in _slot_ranges().items():
        if first <= slot <= last:
            return port
    raise RuntimeError(f"redis-cluster: slot {slot} is not served")


def master_for_key(key: str) -> int:
    """The port of the master serving `key` (hash tags respected)."""
    slot: int = redis.crc.key_slot(key.encode())
    return master_for_slot(slot)


def replica_of(master_port: int) -> int | None:
    """The port of a replica of that master, as the master reports it."""
    info = _ask(master_port, "INFO", "replication")
    if isinstance(info, dict) and int(info.get("connected_slaves", 0)) > 0:
        return int(info["slave0"]["port"])
    return None


def fail_master(port: int, services_dir: Path = DEFAULT_DIR, *, freeze: bool = False) -> None:
    """Make the node at `port` fail: SIGKILL (a crash: no shutdown, no final write), or with
    `freeze` SIGSTOP (a hung process that still holds its sockets). `restart` undoes either."""
    pid = _pid(services_dir.resolve(), port)
    if pid is None:
        raise RuntimeError(f"redis-cluster: node {port} is not running")
    os.kill(pid, signal.SIGSTOP if freeze else signal.SIGKILL)


def restart(port: int, services_dir: Path = DEFAULT_DIR) -> None:
    """Wake a frozen node or start a stopped one; it rejoins (as a replica if its slots moved)
    and this waits until the whole cluster is ok again."""
    services_dir = services_dir.resolve()
    pid = _pid(services_dir, port)
    if pid is not None:
        os.kill(pid, signal.SIGCONT)
    else:
        _pidfile(services_dir, port).unlink(missing_ok=True)
        _start(services_dir, port)
    wait_ok(services_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "wipe"])
    parser.add_argument("--services-dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    if args.action == "up":
        print(",".join(up(args.services_dir)))
    elif args.action == "down":
        down(args.services_dir)
    elif args.action == "wipe":
        wipe(args.services_dir)
    else:
        print(json.dumps(status(args.services_dir), indent=2))


if __name__ == "__main__":
    main()
