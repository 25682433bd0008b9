"""Loopback ports of the local dev/test servers: the one place they are defined.

All sit below 32768, outside the kernel's ephemeral range (32768-60999) that outgoing
connections draw from, so a fixed listening port is never held by some client socket on a
fresh machine. Each can be moved with its `QUARTET_*_PORT` environment variable; the services
script, the app's default URLs, the tests, the benchmarks and the drills all read them here.
"""

from __future__ import annotations

import os
from typing import NamedTuple

HOST = "127.0.0.1"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


class StorePorts(NamedTuple):
    """Where one set of the four stores listens (Cassandra on its native, storage and JMX
    ports). With prefix `P`, `QUARTET_P<FIELD>_PORT` moves each: `QUARTET_PG_PORT`,
    `QUARTET_DRILL_CASSANDRA_JMX_PORT`."""

    pg: int
    redis: int
    mongo: int
    cassandra: int
    cassandra_storage: int
    cassandra_jmx: int

    @classmethod
    def from_env(cls, prefix: str, *defaults: int) -> StorePorts:
        names = (f"QUARTET_{prefix}{field.upper()}_PORT" for field in cls._fields)
        return cls(*map(_port, names, defaults))

    def environ(self) -> dict[str, str]:
        """This set as the unprefixed variables, for the services script run on it."""
        return {
            f"QUARTET_{field.upper()}_PORT": str(port) for field, port in self._asdict().items()
        }


STORES = StorePorts.from_env("", 15432, 16379, 17017, 19042, 19070, 19199)
PG_PORT, REDIS_PORT, MONGO_PORT, CASSANDRA_PORT, CASSANDRA_STORAGE_PORT, CASSANDRA_JMX_PORT = STORES
S3_PORT = _port("QUARTET_S3_PORT", 19000)
MAILPIT_SMTP_PORT = _port("QUARTET_MAILPIT_SMTP_PORT", 11025)
MAILPIT_HTTP_PORT = _port("QUARTET_MAILPIT_HTTP_PORT", 18025)

PG_SERVER = f"postgres@{HOST}:{PG_PORT}"
"""user@host:port of the local PostgreSQL, as the tests and benchmarks address it."""

BROWSER_TEST_PORT = _port("QUARTET_BROWSER_TEST_PORT", 18400)
BROWSER_TEST_PORTS = range(BROWSER_TEST_PORT, BROWSER_TEST_PORT + 64)
"""The browser tests' app and page servers (an origin each) take the first free ports here."""
S3_ENDPOINT = f"http://{HOST}:{S3_PORT}"
"""The local S3-compatible server (versitygw): tests, benchmarks, `MEDIA_STORAGE=s3` in dev."""
S3_DEV_ACCESS_KEY = "quartet-dev"
S3_DEV_SECRET_KEY = "quartet-dev-only-secret"  # noqa: S105 - the local test server's own root key
# `make drills` (scripts/drills.py): a second set of stores and an app of its own, so stopping
# and freezing them never touches the development stores above.
DRILL_STORES = StorePorts.from_env("DRILL_", 25432, 25379, 25017, 25042, 25070, 25199)
DRILL_APP_PORT = _port("QUARTET_DRILL_APP_PORT", 25800)
# Redis Cluster (scripts/redis_cluster.py): three masters and three replicas on six ports; each
# node's cluster bus listens REDIS_CLUSTER_BUS_OFFSET above its port (still below 32768).
REDIS_CLUSTER_PORT = _port("QUARTET_REDIS_CLUSTER_PORT", 21001)
REDIS_CLUSTER_PORTS = tuple(range(REDIS_CLUSTER_PORT, REDIS_CLUSTER_PORT + 6))
REDIS_CLUSTER_BUS_OFFSET = 10000
# `make cluster-up` (scripts/cluster.py): a three-node Cassandra ring on loopback aliases (Linux
# routes all of 127.0.0.0/8 to `lo`), the same native and storage port on each address and a JMX
# port per node (JMX listens on 127.0.0.1); several API instances behind one nginx.
CASSANDRA_RING_HOSTS = tuple(
    os.environ.get("QUARTET_CASSANDRA_RING_HOSTS", "127.0.0.2,127.0.0.3,127.0.0.4").split(",")
)
CASSANDRA_RING_PORT = _port("QUARTET_CASSANDRA_RING_PORT", 20042)
CASSANDRA_RING_STORAGE_PORT = _port("QUARTET_CASSANDRA_RING_STORAGE_PORT", 20070)
CASSANDRA_RING_JMX_PORTS = tuple(
    _port(f"QUARTET_CASSANDRA_RING_JMX_PORT_{n}", 20099 + 100 * n) for n in (1, 2, 3)
)
CLUSTER_PROXY_PORT = _port("QUARTET_CLUSTER_PROXY_PORT", 23000)
CLUSTER_API_PORTS = tuple(_port(f"QUARTET_CLUSTER_API_PORT_{n}", 23000 + n) for n in (1, 2, 3))


def cassandra_ring_settings() -> dict[str, str]:
    """The app's Cassandra settings for the local ring (environment names and values): RF 3 in
    `datacenter1`, LOCAL_QUORUM, every node a contact point, speculative reads after 100 ms."""
    return {
        "CASSANDRA_CONTACT_POINTS": ",".join(CASSANDRA_RING_HOSTS),
        "CASSANDRA_PORT": str(CASSANDRA_RING_PORT),
        "CASSANDRA_LOCAL_DC": "datacenter1",
        "CASSANDRA_REPLICATION": '{"class": "NetworkTopologyStrategy", "datacenter1": 3}',
        "CASSANDRA_CONSISTENCY": "LOCAL_QUORUM",
        "CASSANDRA_SPECULATIVE_DELAY_MS": "100",
    }


CONTRACT_TEST_PORT = _port("QUARTET_CONTRACT_TEST_PORT", 18480)
CONTRACT_TEST_PORTS = range(CONTRACT_TEST_PORT, CONTRACT_TEST_PORT + 16)
"""The schemathesis contract test's uvicorn takes the first free port here."""
