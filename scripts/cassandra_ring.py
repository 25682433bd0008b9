"""A local three-node Cassandra 5.0 ring for `make cluster-up` and the cluster drills.

Each node is the single dev node of scripts/services.py (the same jars, JVM flags and fast-start
settings) placed in a ring of its own: its own loopback address (127.0.0.2-4 by default; Linux
routes all of 127.0.0.0/8 to `lo`), the same native and storage port on each address, its own
JMX port, 16 vnodes allocated for replication factor 3, a smaller heap, and data under
`$QUARTET_CLUSTER_DIR/cassandra-ring/<n>` (QUARTET_CLUSTER_DIR defaults to
QUARTET_SERVICES_DIR). Nodes start one after another, seed first (starting three JVMs at once on
a small machine only makes each slower), and `up` returns once `nodetool status` shows every
node Up and Normal. The ring is new and empty when first started, so nodes join without
bootstrap streaming (`auto_bootstrap: false`); a node stopped and started again keeps its tokens
and data, catches up from hints, and `repair` makes it consistent for certain.

Usage: python scripts/cassandra_ring.py up|down|status|reset
       python scripts/cassandra_ring.py stop|start|repair|nodetool NODE [args ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import services
from quartet import local_ports

CLUSTER_DIR = Path(os.environ.get("QUARTET_CLUSTER_DIR", services.SERVICES)).resolve()
RING_DIR = CLUSTER_DIR / "cassandra-ring"
HOSTS = local_ports.CASSANDRA_RING_HOSTS
NATIVE_PORT = local_ports.CASSANDRA_RING_PORT
STORAGE_PORT = local_ports.CASSANDRA_RING_STORAGE_PORT
JMX_PORTS = local_ports.CASSANDRA_RING_JMX_PORTS
SEED = HOSTS[0]
RING_DELAY_MS = 15_000
WRITE_TIMEOUT_LINE = "write_request_timeout: 5000ms"
RING_TIMEOUT = float(os.environ.get("QUARTET_RING_TIMEOUT", "300"))


class RingNode(services.Cassandra):
    """Node `n` (1-based) of the ring."""

    heap = "768M"
    young_heap = "128M"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.name = f"cassandra-{n}"
        self.port = NATIVE_PORT

    @property
    def dir(self) -> Path:
        return RING_DIR / str(self.n)

    @property
    def lib(self) -> Path:
        """The single node's jars (resolved once by scripts/services.py's Maven step)."""
        return services.SERVICES / "cassandra" / "lib"

    @property
    def address(self) -> str:
        return HOSTS[self.n - 1]

    @property
    def jmx_port(self) -> int:
        return JMX_PORTS[self.n - 1]

    def _java_command(self) -> list[str]:
        """The single node's command with a ring delay: a node that restarts first has to hear
        from a seed (gossip's shadow round), and gives up after this long (the single node skips
        it with 0; on a loaded machine the seed's answer can take seconds). A later -D wins."""
        cmd = super()._java_command()
        at = cmd.index("-cp")
        return [*cmd[:at], f"-Dcassandra.ring_delay_ms={RING_DELAY_MS}", *cmd[at:]]

    def _write_config(self) -> None:
        """The single node's settings but Cassandra's default 2 s write timeout: the single
        node's 5 s equals the app's store deadline, which would leave no room for the retry
        that a write timing out on a stopping replica needs (the driver retries a timed-out
        batch log write once, the event service a timed-out event once)."""
        super()._write_config()
        config = self.dir / "cassandra.yaml"
        text = config.read_text()
        if WRITE_TIMEOUT_LINE not in text:
            raise services.ServiceError(f"{config}: no `{WRITE_TIMEOUT_LINE}` to replace")
        config.write_text(text.replace(WRITE_TIMEOUT_LINE, "write_request_timeout: 2000ms"))

    def topology(self) -> str:
        return f"""# Written by scripts/cassandra_ring.py: node {self.n} of the local ring.
cluster_name: quartet-ring
num_tokens: 16
allocate_tokens_for_local_replication_factor: 3
auto_bootstrap: false
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{SEED}:{STORAGE_PORT}"
storage_port: {STORAGE_PORT}
native_transport_port: {NATIVE_PORT}
hinted_handoff_enabled: true
max_hint_window: 3h
"""


def nodes() -> list[RingNode]:
    return [RingNode(n) for n in range(1, len(HOSTS) + 1)]


def node(n: int) -> RingNode:
    if not 1 <= n <= len(HOSTS):
        raise services.ServiceError(f"no ring node {n}: the nodes are 1 to {len(HOSTS)}")
    return RingNode(n)


def nodetool(n: int, *args: str, timeout: float = 600.0) -> str:
    """Run nodetool (the NodeTool class of the same jars) against node `n`'s JMX port."""
    target = node(n)
    jars = ":".join(str(j) for j in sorted(target.lib.glob("*.jar")))
    tools_log = RING_DIR / "logback-tools.xml"
    if not tools_log.exists():
        RING_DIR.mkdir(parents=True, exist_ok=True)
        tools_log.write_text(
            '<configuration><appender name="E" class="ch.qos.logback.core.ConsoleAppender">'
            "<target>System.err</target><encoder><pattern>%msg%n</pattern></encoder></appender>"
            '<root level="WARN"><appender-ref ref="E"/></root></configuration>\n'
        )
    cmd = [
        shutil.which("java") or "java",
        "-Xmx128m",
        "-XX:+UseSerialGC",
        # as Cassandra's jvm11-client.options: the tools touch JDK internals too
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
        f"-Duser.home={RING_DIR}",
        f"-Dlogback.configurationFile=file://{tools_log}",
        "-cp",
        jars,
        "org.apache.cassandra.tools.NodeTool",
        "-h",
        local_ports.HOST,
        "-p",
        str(target.jmx_port),
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise services.ServiceError(
            f"nodetool {' '.join(args)} on node {n} failed:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def node_states(via: int) -> dict[str, str]:
    """Address -> two-letter state (UN, DN, UJ, ...) as node `via` sees the ring."""
    states = {}
    for line in nodetool(via, "status").splitlines():
        fields = line.split()
        if len(fields) > 1 and len(fields[0]) == 2 and fields[0][0] in "UD":
            states[fields[1]] = fields[0]
    return states


def wait_states(expected: dict[str, str], via: int, timeout: float = RING_TIMEOUT) -> float:
    """Wait until node `via` reports `expected` states; returns the seconds it took."""
    started = time.monotonic()
    seen: dict[str, str] = {}
    while time.monotonic() - started < timeout:
        try:
            seen = node_states(via)
        except services.ServiceError:
            seen = {}
        if all(seen.get(address) == state for address, state in expected.items()):
            return time.monotonic() - started
        time.sleep(2)
    raise services.ServiceError(f"ring: wanted {expected}, node {via} sees {seen}")


def start_node(n: int) -> float:
    """Start node `n` (idempotent) and wait until it answers CQL; returns the seconds taken."""
    target = node(n)
    started = time.monotonic()
    try:
        if target.pid() is None:
            target.prepare()
            target.start()
        services._wait_ready(target, started)
    except services.ServiceError as error:
        tails = "".join(
            f"\n--- last lines of {log} ---\n{services._tail(log)}" for log in target.logs
        )
        raise services.ServiceError(f"{error}{tails}") from None
    return time.monotonic() - started


def rejoin(n: int) -> float:
    """Start node `n` and wait until another node sees it Up/Normal; returns the seconds taken."""
    started = time.monotonic()
    start_node(n)
    wait_states({node(n).address: "UN"}, via=2 if n == 1 else 1)
    return time.monotonic() - started


def stop_node(n: int) -> None:
    """Stop node `n` the way an operator restarts one: SIGTERM, so it drains and flushes."""
    node(n).stop()


def up() -> float:
    """Start every node in turn (seed first) and wait for all of them Up/Normal; seconds taken."""
    started = time.monotonic()
    for target in nodes():
        seconds = start_node(target.n)
        services._log(f"{target.name:<12} up on {target.address}:{NATIVE_PORT} ({seconds:.0f} s)")
    wait_states({address: "UN" for address in HOSTS}, via=1)
    return time.monotonic() - started


def down() -> None:
    for target in reversed(nodes()):
        stop_node(target.n)
        services._log(f"{target.name:<12} stopped")


def status() -> int:
    running = [target for target in nodes() if target.pid() is not None]
    for target in nodes():
        pid = target.pid()
        services._log(f"{target.name:<12} {'running (pid ' + str(pid) + ')' if pid else 'down'}")
    if not running:
        return 1
    services._log(nodetool(running[0].n, "status"))
    return 0 if len(running) == len(HOSTS) else 1


def repair(n: int, *keyspaces: str) -> float:
    """`nodetool repair` (full) on node `n`; returns the seconds it took."""
    started = time.monotonic()
    nodetool(n, "repair", "--full", *keyspaces)
    return time.monotonic() - started


def reset() -> None:
    down()
    shutil.rmtree(RING_DIR, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "action", choices=["up", "down", "status", "reset", "stop", "start", "repair", "nodetool"]
    )
    parser.add_argument("node", nargs="?", type=int, help="1, 2 or 3 (stop, start, repair)")
    parser.add_argument("args", nargs="*", help="keyspaces to repair, or nodetool's arguments")
    args = parser.parse_args(argv)
    try:
        if args.action == "up":
            services._log(f"ring up in {up():.0f} s")
        elif args.action == "down":
            down()
        elif args.action == "status":
            return status()
        elif args.action == "reset":
            reset()
        elif args.node is None:
            parser.error(f"{args.action} needs a node number")
        elif args.action == "stop":
            stop_node(args.node)
        elif args.action == "start":
            services._log(f"node {args.node} up and normal in {rejoin(args.node):.0f} s")
        elif args.action == "repair":
            services._log(f"repair on node {args.node} took {repair(args.node, *args.args):.0f} s")
        else:
            services._log(nodetool(args.node, *args.args))
    except services.ServiceError as error:
        services._log(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
