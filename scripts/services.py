"""Local services manager: real PostgreSQL, Redis, MongoDB-wire, Cassandra, S3 and Mailpit.

No Docker here, so the project starts the servers itself, each on a fixed loopback port
(overridable by environment variable), with data under `.services/`. Every process is tracked by a
PID file we wrote (or PostgreSQL's own `postmaster.pid`), never found by a name pattern.

Usage: python scripts/services.py up|down|status|reset [store ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from quartet import local_ports

ROOT = Path(__file__).resolve().parent.parent
SERVICES = Path(os.environ.get("QUARTET_SERVICES_DIR", ROOT / ".services")).resolve()
HOST = local_ports.HOST
PG_PORT = local_ports.PG_PORT
REDIS_PORT = local_ports.REDIS_PORT
MONGO_PORT = local_ports.MONGO_PORT
CASSANDRA_PORT = local_ports.CASSANDRA_PORT
CASSANDRA_STORAGE_PORT = local_ports.CASSANDRA_STORAGE_PORT
CASSANDRA_JMX_PORT = local_ports.CASSANDRA_JMX_PORT
S3_PORT = local_ports.S3_PORT
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
VERSITYGW_VERSION = "v1.8.0"
MAILPIT_SMTP_PORT = local_ports.MAILPIT_SMTP_PORT
MAILPIT_HTTP_PORT = local_ports.MAILPIT_HTTP_PORT
MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.33.1"
PG_DATABASES = ("quartet", "quartet_test")
PG_BIN = Path(os.environ.get("QUARTET_PG_BIN", "/usr/lib/postgresql/15/bin"))
CASSANDRA_POM = ROOT / "scripts" / "cassandra-pom.xml"
START_TIMEOUT = float(os.environ.get("QUARTET_SERVICES_TIMEOUT", "240"))

APT_PACKAGES = {
    "postgres": ["postgresql-15", "postgresql-contrib"],
    "redis": ["redis-server"],
    "cassandra": ["openjdk-17-jre-headless", "maven"],
}


class ServiceError(RuntimeError):
    """A server could not be installed, started or reached."""


def _log(msg: str) -> None:
    print(msg, flush=True)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _pid_alive(pid: int, marker: str) -> bool:
    """True when `pid` runs and its command line mentions `marker` (guards against PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False
    return marker in cmdline


def _read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop_pid(pid: int, marker: str, timeout: float = 60.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _pid_alive(pid, marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _pid_alive(pid, marker) and time.monotonic() < deadline:
            time.sleep(0.1)


def _ensure_commands(store: str, commands: list[str]) -> None:
    """Install the store's Debian packages with apt when a command is missing and we are root."""
    missing = [c for c in commands if shutil.which(c) is None and not Path(c).exists()]
    if not missing:
        return
    packages = APT_PACKAGES[store]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServiceError(
            f"{store}: missing {', '.join(missing)}; install the Debian packages "
            f"{' '.join(packages)} (apt-get install {' '.join(packages)})"
        )
    _log(f"{store}: installing {' '.join(packages)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServiceError(f"{store}: {' '.join(cmd)} failed:\n{result.stderr[-2000:]}")


def _spawn(cmd: list[str], log: Path, pidfile: Path, env: dict[str, str] | None = None) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=log.parent,
        )
    pidfile.write_text(f"{proc.pid}\n")
    return proc.pid


@dataclass
class Service:
    """One local server: how to start it, how to tell it is ours and alive, how to query it."""

    name: str
    port: int

    @property
    def dir(self) -> Path:
        return SERVICES / self.name

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def pidfile(self) -> Path:
        return self.dir / f"{self.name}.pid"

    @property
    def marker(self) -> str:
        return str(self.port)

    def pid(self) -> int | None:
        pid = _read_pid(self.pidfile)
        return pid if pid is not None and _pid_alive(pid, self.marker) else None

    def prepare(self) -> None:
        """Install and initialise (slow, idempotent) before start."""

    def start(self) -> None:
        raise NotImplementedError

    @property
    def logs(self) -> list[Path]:
        """The files whose last lines explain a failed start."""
        return [self.log]

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            _stop_pid(pid, self.marker)
        if self.pid() is None:
            self.pidfile.unlink(missing_ok=True)

    async def version(self) -> str:
        """Answer a real query through the app's driver; return the server version."""
        raise NotImplementedError

    def wipe(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class Postgres(Service):
    def __init__(self) -> None:
        super().__init__("postgres", PG_PORT)

    @property
    def dir(self) -> Path:
        # The postgres user cannot enter a checkout under /root: keep the cluster in a
        # per-checkout directory under /var/tmp and point .services/postgres at it. An existing
        # link wins over the derived name, so a change in how the name is derived (it was a
        # SHA-1 digest) never orphans a running cluster or its data.
        if "QUARTET_PG_DATA_ROOT" in os.environ:
            return Path(os.environ["QUARTET_PG_DATA_ROOT"])
        link = SERVICES / "postgres"
        if link.is_symlink():
            return SERVICES / os.readlink(link)
        digest = hashlib.sha256(str(SERVICES).encode()).hexdigest()[:12]
        return Path(f"/var/tmp/quartet-{digest}")  # noqa: S108

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def log(self) -> Path:
        return self.dir / "postgres.log"

    @property
    def pidfile(self) -> Path:
        return self.data / "postmaster.pid"

    @property
    def marker(self) -> str:
        return str(self.data)

    def _run_as_postgres(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """initdb and pg_ctl refuse root; run them as `postgres` from a directory it can enter
        (a checkout under /root is not one)."""
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(list(cmd), capture_output=True, text=True, check=False, cwd=self.dir)

    def prepare(self) -> None:
        _ensure_commands("postgres", [str(PG_BIN / "initdb"), str(PG_BIN / "pg_ctl")])
        SERVICES.mkdir(parents=True, exist_ok=True)
        link = SERVICES / "postgres"
        if link.is_symlink() and SERVICES / os.readlink(link) != self.dir:
            link.unlink()  # QUARTET_PG_DATA_ROOT points elsewhere now
        if not link.is_symlink():
            shutil.rmtree(link, ignore_errors=True)
            link.symlink_to(self.dir)
        if (self.data / "PG_VERSION").exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        result = self._run_as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if result.returncode != 0:
            raise ServiceError(f"postgres: initdb failed:\n{result.stdout}{result.stderr}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# quartet local services\n"
                f"listen_addresses = '{HOST}'\nport = {PG_PORT}\n"
                f"unix_socket_directories = '{self.dir}'\n"
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "pg_stat_statements.track = all\nmax_connections = 200\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )

    def start(self) -> None:
        result = self._run_as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode != 0:
            raise ServiceError(f"postgres: pg_ctl start failed:\n{result.stdout}{result.stderr}")

    def stop(self) -> None:
        if self.pid() is None:
            return
        result = self._run_as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )
        if result.returncode != 0:
            raise ServiceError(f"postgres: pg_ctl stop failed:\n{result.stdout}{result.stderr}")

    async def version(self) -> str:
        import asyncpg

        conn = await asyncpg.connect(host=HOST, port=PG_PORT, user="postgres", database="postgres")
        try:
            await conn.fetchval("SELECT 1")
            existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
            for db in PG_DATABASES:
                if db not in existing:
                    await conn.execute(f'CREATE DATABASE "{db}"')
            for db in PG_DATABASES:
                dbconn = await asyncpg.connect(
                    host=HOST, port=PG_PORT, user="postgres", database=db
                )
                try:
                    await dbconn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                finally:
                    await dbconn.close()
            return str(await conn.fetchval("SHOW server_version")).split()[0]
        finally:
            await conn.close()

    def wipe(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir, ignore_errors=True)
        (SERVICES / "postgres").unlink(missing_ok=True)


class Redis(Service):
    def __init__(self) -> None:
        super().__init__("redis", REDIS_PORT)

    def prepare(self) -> None:
        _ensure_commands("redis", ["redis-server"])
        self.dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        cmd = [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            HOST,
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.pidfile),
            "--logfile",
            str(self.log),
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "60 1",
            "--maxclients",
            "2000",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.dir)
        if result.returncode != 0:
            raise ServiceError(f"redis: start failed:\n{result.stdout}{result.stderr}")

    async def version(self) -> str:
        from redis.asyncio import Redis as Client

        client = Client(host=HOST, port=REDIS_PORT, socket_connect_timeout=2)
        try:
            await client.ping()
            return str((await client.info("server"))["redis_version"])
        finally:
            await client.aclose()


class Mongo(Service):
    def __init__(self) -> None:
        super().__init__("mongo", MONGO_PORT)

    def start(self) -> None:
        exe = Path(sys.executable).parent / "secantusd-py"
        if not exe.exists():
            raise ServiceError("mongo: secantusd-py is missing; run `make install` first")
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        cmd = [
            str(exe),
            "--host",
            HOST,
            "--port",
            str(MONGO_PORT),
            "--storage-path",
            str(self.dir / "data"),
            "--log-level",
            "WARNING",
        ]
        _spawn(cmd, self.log, self.pidfile)

    async def version(self) -> str:
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            HOST, MONGO_PORT, directConnection=True, serverSelectionTimeoutMS=2000
        )
        try:
            await client.admin.command("ping")
            info = await client.admin.command("buildInfo")
            return str(info.get("version", "?"))
        finally:
            await client.close()


class Cassandra(Service):
    """The single local node; scripts/cassandra_ring.py derives the ring's nodes from it."""

    heap = "1G"
    young_heap = "256M"

    def __init__(self) -> None:
        super().__init__("cassandra", CASSANDRA_PORT)

    @property
    def address(self) -> str:
        """The loopback address the node listens on (storage and native transport)."""
        return HOST

    @property
    def jmx_port(self) -> int:
        return CASSANDRA_JMX_PORT

    def topology(self) -> str:
        """cassandra.yaml's lines that place the node in its ring: here one node owning it all."""
        return f"""# Written by scripts/services.py: a single local node for dev and tests.
cluster_name: quartet-local
num_tokens: 1
initial_token: 0
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{HOST}:{CASSANDRA_STORAGE_PORT}"
storage_port: {CASSANDRA_STORAGE_PORT}
native_transport_port: {CASSANDRA_PORT}
"""

    @property
    def lib(self) -> Path:
        return self.dir / "lib"

    @property
    def marker(self) -> str:
        return str(self.dir / "cassandra.yaml")

    def prepare(self) -> None:
        _ensure_commands("cassandra", ["java", "mvn"])
        self.dir.mkdir(parents=True, exist_ok=True)
        stamp = self.lib / ".pom-sha256"
        pom_sha = hashlib.sha256(CASSANDRA_POM.read_bytes()).hexdigest()
        if not (stamp.exists() and stamp.read_text() == pom_sha):
            _log("cassandra: resolving cassandra-all and its runtime dependencies with Maven")
            shutil.rmtree(self.lib, ignore_errors=True)
            cmd = [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(CASSANDRA_POM),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={self.lib}",
            ]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise ServiceError(f"cassandra: maven failed:\n{result.stdout[-3000:]}")
            stamp.write_text(pom_sha)
        self._write_config()

    def _write_config(self) -> None:
        d = self.dir
        for sub in ("data", "commitlog", "saved_caches", "hints", "cdc", "logs", "tmp", "triggers"):
            (d / sub).mkdir(exist_ok=True)
        (d / "cassandra.yaml").write_text(
            self.topology()
            + f"""partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
listen_address: {self.address}
rpc_address: {self.address}
start_native_transport: true
data_file_directories:
  - {d / "data"}
commitlog_directory: {d / "commitlog"}
saved_caches_directory: {d / "saved_caches"}
hints_directory: {d / "hints"}
cdc_raw_directory: {d / "cdc"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
auto_snapshot: false
snapshot_before_compaction: false
concurrent_reads: 8
concurrent_writes: 16
memtable_allocation_type: heap_buffers
read_request_timeout: 10000ms
write_request_timeout: 5000ms
range_request_timeout: 20000ms
request_timeout: 20000ms
dynamic_snitch: false
"""
        )
        (d / "logback.xml").write_text(
            f"""<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{self.log}</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.thinkaurelius.thrift" level="ERROR"/>
</configuration>
"""
        )

    def _java_command(self) -> list[str]:
        jars = sorted(self.lib.glob("*.jar"))
        jamm = next((j for j in jars if j.name.startswith("jamm-")), None)
        exports = [
            "java.base/jdk.internal.misc",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi",
            "java.management/com.sun.jmx.remote.security",
            "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server",
            "java.sql/java.sql",
            "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
        ]
        opens = [
            "java.base/java.lang.module",
            "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref",
            "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math",
            "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar",
            "jdk.management/com.sun.management.internal",
            "java.base/sun.nio.ch",
            "java.base/java.io",
            "java.base/java.lang.reflect",
            "java.base/java.lang",
            "java.base/java.util",
            "java.base/java.nio",
        ]
        java = shutil.which("java") or "java"
        jdk_home = Path(java).resolve().parent.parent
        if (jdk_home / "jmods" / "jdk.compiler.jmod").exists() or (
            jdk_home / "bin" / "javac"
        ).exists():
            exports += ["jdk.attach/sun.tools.attach", "jdk.compiler/com.sun.tools.javac.file"]
            opens += ["jdk.compiler/com.sun.tools.javac"]
        d = self.dir
        cmd = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            f"-Xmn{self.young_heap}",
            "-Xss256k",
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djdk.attach.allowAttachSelf=true",
            "-Dio.netty.tryReflectionSetAccessible=true",
            *[f"--add-exports={e}=ALL-UNNAMED" for e in exports],
            *[f"--add-opens={o}=ALL-UNNAMED" for o in opens],
            f"-Dcassandra.config=file://{d / 'cassandra.yaml'}",
            f"-Dcassandra.storagedir={d}",
            f"-Dcassandra.logdir={d / 'logs'}",
            f"-Dlogback.configurationFile=file://{d / 'logback.xml'}",
            "-Dcassandra-foreground=yes",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            f"-Dcassandra.jmx.local.port={self.jmx_port}",
            "-Dchronicle.analytics.disable=true",
            "-Djava.net.preferIPv4Stack=true",
            f"-Djava.io.tmpdir={d / 'tmp'}",
            f"-Djna.tmpdir={d / 'tmp'}",
            "-Dcassandra.ring_delay_ms=0",
            "-Dcassandra.superuser_setup_delay_ms=0",
            f"-Dcassandra.triggers_dir={d / 'triggers'}",
        ]
        if jamm is not None:
            cmd.append(f"-javaagent:{jamm}")
        cmd += [
            "-cp",
            ":".join(str(j) for j in jars),
            "org.apache.cassandra.service.CassandraDaemon",
        ]
        return cmd

    @property
    def logs(self) -> list[Path]:
        # The JVM's own output (bad options, missing classes) never reaches cassandra.log.
        return [self.log, self.dir / "logs" / "stdout.log"]

    def start(self) -> None:
        self.log.unlink(missing_ok=True)
        _spawn(self._java_command(), self.logs[1], self.pidfile)

    async def version(self) -> str:
        # The log is new at every start, so the marker anywhere in it belongs to this run (a
        # node that has logged a few hundred lines since must not look "not started").
        try:
            started = b"Startup complete" in self.log.read_bytes()
        except OSError:
            started = False
        if not started:
            raise ServiceError("cassandra: not started yet")
        from cassandra.cluster import Cluster

        def query() -> str:
            cluster = Cluster(
                [self.address], port=self.port, connect_timeout=3, control_connection_timeout=3
            )
            try:
                session = cluster.connect()
                row = session.execute("SELECT release_version FROM system.local").one()
                return str(row.release_version)
            finally:
                cluster.shutdown()

        return await asyncio.get_running_loop().run_in_executor(None, query)


def _go_install(name: str, module: str, version: str, binary: Path) -> None:
    """Build a pinned Go program into `binary`'s folder (once per version): Debian packages
    neither versitygw nor Mailpit, and no prebuilt binary can be downloaded here."""
    stamp = binary.parent / f".{binary.name}.version"
    if binary.exists() and stamp.exists() and stamp.read_text() == version:
        return
    go = shutil.which("go") or "/usr/local/go/bin/go"  # the official tarball's place
    if not Path(go).exists():
        raise ServiceError(
            f"{name}: Go is missing; install Go (>= 1.24) and run again, or build it yourself "
            f"with `GOBIN={binary.parent} go install {module}@{version}`"
        )
    _log(f"{name}: building {module}@{version} with go install (about a minute)")
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(binary.parent)}
    cmd = [go, "install", f"{module}@{version}"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not binary.exists():
        raise ServiceError(f"{name}: go install failed:\n{result.stderr[-3000:]}")
    stamp.write_text(version)


class S3(Service):
    """versitygw (Apache-2.0) answering the S3 API over a directory, built with `go install` at a
    pinned version into `.services/s3/bin` (Debian has no package of it)."""

    def __init__(self) -> None:
        super().__init__("s3", S3_PORT)

    @property
    def binary(self) -> Path:
        return self.dir / "bin" / "versitygw"

    def prepare(self) -> None:
        _go_install(self.name, VERSITYGW_MODULE, VERSITYGW_VERSION, self.binary)

    def start(self) -> None:
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "ROOT_ACCESS_KEY": local_ports.S3_DEV_ACCESS_KEY,
            "ROOT_SECRET_KEY": local_ports.S3_DEV_SECRET_KEY,
        }
        cmd = [str(self.binary), "--port", f"{HOST}:{S3_PORT}", "posix", str(self.dir / "data")]
        _spawn(cmd, self.log, self.pidfile, env)

    async def version(self) -> str:
        from aiobotocore.session import get_session

        async with get_session().create_client(
            "s3",
            endpoint_url=local_ports.S3_ENDPOINT,
            aws_access_key_id=local_ports.S3_DEV_ACCESS_KEY,
            aws_secret_access_key=local_ports.S3_DEV_SECRET_KEY,
            region_name="us-east-1",
        ) as client:
            await client.list_buckets()
        return f"versitygw-{VERSITYGW_VERSION}"


class Mailpit(Service):
    """A real SMTP server with a web UI and HTTP API (dev inbox; tests read mail through it),
    built with `go install` on first use."""

    def __init__(self) -> None:
        super().__init__("mailpit", MAILPIT_SMTP_PORT)

    @property
    def exe(self) -> Path:
        return self.dir / "bin" / "mailpit"

    def prepare(self) -> None:
        _go_install(self.name, MAILPIT_MODULE, MAILPIT_VERSION, self.exe)

    def start(self) -> None:
        cmd = [
            str(self.exe),
            "--smtp",
            f"{HOST}:{MAILPIT_SMTP_PORT}",
            "--listen",
            f"{HOST}:{MAILPIT_HTTP_PORT}",
            "--database",
            str(self.dir / "mailpit.db"),
            "--max",
            "5000",
            "--disable-version-check",
            "--quiet",
        ]
        _spawn(cmd, self.log, self.pidfile)

    async def version(self) -> str:
        import httpx

        async with httpx.AsyncClient(timeout=2) as http:
            answer = await http.get(f"http://{HOST}:{MAILPIT_HTTP_PORT}/api/v1/info")
            answer.raise_for_status()
        # A `go install` build reports its version as "dev": name the pinned one it was built at.
        return MAILPIT_VERSION.removeprefix("v")


ALL: dict[str, Callable[[], Service]] = {
    "postgres": Postgres,
    "redis": Redis,
    "mongo": Mongo,
    "cassandra": Cassandra,
    "s3": S3,
    "mailpit": Mailpit,
}


async def _probe(service: Service) -> str | None:
    try:
        return await asyncio.wait_for(service.version(), timeout=10)
    except Exception:
        return None


def _wait_ready(service: Service, started: float) -> str:
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        version = asyncio.run(_probe(service))
        if version is not None:
            return version
        # For a moment after the spawn the process is still inside exec (its /proc cmdline is
        # empty) or, daemonizing, has not written its PID file yet: that is not an exit.
        if service.name != "postgres" and service.pid() is None and time.monotonic() - started > 3:
            raise ServiceError(f"{service.name}: process exited during start-up")
        time.sleep(0.5)
    raise ServiceError(f"{service.name}: did not answer within {START_TIMEOUT:.0f}s")


def _port_holder(port: int) -> str | None:
    """Who listens on HOST:port right now (from `ss`), or None when the port is free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            return None
        except OSError:
            pass
    ss = shutil.which("ss")
    if ss is None:
        return "another process"
    out = subprocess.run(
        [ss, "-Htanp", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return out.splitlines()[0] if out else "another process"


def _up_one(service: Service) -> str:
    t0 = time.monotonic()
    try:
        if service.pid() is not None:
            version = _wait_ready(service, t0)
            pid = service.pid()
            return f"{service.name:<10} up       {version:<12} already running (pid {pid})"
        holder = _port_holder(service.port)
        if holder is not None:
            raise ServiceError(
                f"{service.name}: {HOST}:{service.port} is taken by: {holder}\n"
                f"stop it, or move this store with its QUARTET_*_PORT variable "
                f"(src/quartet/local_ports.py)"
            )
        service.prepare()
        t_start = time.monotonic()
        service.start()
        version = _wait_ready(service, t_start)
        prep = t_start - t0
        return (
            f"{service.name:<10} started  {version:<12} in {time.monotonic() - t_start:5.1f}s"
            + (f" (+{prep:.1f}s setup)" if prep >= 0.5 else "")
            + f" on {HOST}:{service.port}"
        )
    except ServiceError as exc:
        tails = "".join(f"\n--- last lines of {log} ---\n{_tail(log)}" for log in service.logs)
        raise ServiceError(f"{exc}{tails}") from None


def cmd_up(services: list[Service]) -> int:
    SERVICES.mkdir(parents=True, exist_ok=True)
    failures = 0
    # Cassandra is by far the slowest: every store starts at once and is awaited on its own.
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        futures = {s.name: pool.submit(_up_one, s) for s in services}
        for name, future in futures.items():
            try:
                _log(future.result())
            except ServiceError as exc:
                failures += 1
                _log(f"{name:<10} FAILED\n{exc}")
    return 1 if failures else 0


def cmd_down(services: list[Service]) -> int:
    failures = 0
    for s in services:
        pid = s.pid()
        try:
            s.stop()
        except ServiceError as exc:
            _log(str(exc))
        if s.pid() is not None:
            failures += 1
            _log(f"{s.name:<10} FAILED to stop (pid {s.pid()} still running)")
        else:
            _log(f"{s.name:<10} {'stopped' if pid else 'not running'}")
    return 1 if failures else 0


def cmd_status(services: list[Service]) -> int:
    down = 0
    for s in services:
        pid = s.pid()
        version = asyncio.run(_probe(s)) if pid else None
        if pid and version:
            _log(f"{s.name:<10} up       {version:<12} pid {pid:<8} {HOST}:{s.port}")
        else:
            down += 1
            state = f"starting (pid {pid})" if pid else "down"
            _log(f"{s.name:<10} {state}")
    return 1 if down else 0


def cmd_reset(services: list[Service]) -> int:
    if cmd_down(services) != 0:
        return 1  # never wipe the files of a server that is still running
    for s in services:
        s.wipe()
        _log(f"{s.name:<10} data wiped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "reset"])
    parser.add_argument("stores", nargs="*", metavar="store", help=" | ".join(ALL))
    args = parser.parse_args(argv)
    unknown = set(args.stores) - set(ALL)
    if unknown:
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    services = [ALL[name]() for name in (args.stores or ALL)]
    action = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "reset": cmd_reset}
    try:
        return action[args.action](services)
    except ServiceError as exc:
        _log(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
