"""Response and input models of the observability endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from quartet.core.schemas import StrictInput, examples

QueryStore = Literal["postgres", "mongodb", "cassandra"]
QuerySort = Literal["total_ms", "count", "mean_ms", "max_ms", "p95_ms", "errors", "rows"]


class QueryTotals(BaseModel):
    count: int
    errors: int
    error_rate: float
    total_ms: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


class StoreMetrics(BaseModel):
    pool: dict[str, int]
    queries: QueryTotals | None = Field(None, description="None for Redis (no statements)")


class DatabaseMetricsOut(BaseModel):
    pid: int = Field(description="The worker that answered: query figures are per worker")
    slow_query_ms: float
    stores: dict[str, StoreMetrics]


class QueriesQuery(StrictInput):
    store: QueryStore | None = None
    sort: QuerySort = "total_ms"
    limit: int = Field(50, ge=1, le=500)


class StatementOut(BaseModel):
    store: str
    statement: str
    count: int
    total_ms: float
    mean_ms: float
    max_ms: float
    p95_ms: float
    rows: int
    errors: int


class PgStatementOut(BaseModel):
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    max_ms: float
    rows: int


class PgStatStatements(BaseModel):
    available: bool
    detail: str | None = None
    items: list[PgStatementOut] = []


class QueriesOut(BaseModel):
    pid: int
    sort: QuerySort
    items: list[StatementOut]
    pg_stat_statements: PgStatStatements | None = Field(
        None, description="PostgreSQL's own statistics (all clients); absent for other stores"
    )


class SlowQueriesQuery(StrictInput):
    store: QueryStore | None = None
    limit: int = Field(100, ge=1, le=1000)


class SlowQueryOut(BaseModel):
    store: str
    statement: str
    duration_ms: float
    at: datetime


class SlowQueriesOut(BaseModel):
    pid: int
    slow_query_ms: float
    items: list[SlowQueryOut]


class ResetIn(StrictInput):
    pg_stat_statements: bool = Field(
        False, description="Also reset PostgreSQL's pg_stat_statements (the whole server's)"
    )

    model_config = examples({"pg_stat_statements": False})


class ResetOut(BaseModel):
    pid: int
    reset: list[str]
    pg_stat_statements: bool


class PostgresCluster(BaseModel):
    database: str
    in_recovery: bool
    replicas: int


class MongoMember(BaseModel):
    name: str
    state: str | None = None
    health: float | None = None


class MongoCluster(BaseModel):
    set_name: str | None
    primary: str | None
    me: str | None
    members: list[MongoMember]


class RedisCluster(BaseModel):
    role: str
    connected_replicas: int
    mode: str | None


class CassandraPeer(BaseModel):
    address: str
    data_center: str | None
    rack: str | None
    release_version: str | None


class CassandraCluster(BaseModel):
    cluster_name: str | None
    data_center: str | None
    peers: list[CassandraPeer]


ClusterInfo = PostgresCluster | MongoCluster | RedisCluster | CassandraCluster


class StoreDetail(BaseModel):
    status: Literal["ok", "unavailable"]
    latency_ms: float
    version: str | None = None
    error: str | None = None
    pool: dict[str, int]
    cluster: ClusterInfo | None = None


class DetailedHealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    stores: dict[str, StoreDetail]


class StatusOut(BaseModel):
    service: str
    version: str
    git_sha: str | None
    environment: str
    pid: int
    started_at: datetime
    uptime_seconds: float
    workers: int = Field(description="Live workers seen in the multiprocess directory (else 1)")
    python: str
    metrics: bool
    sentry: bool
    tracing: bool
    queue_depths: dict[str, float]
    settings: dict[str, Any] = Field(description="Every setting, secrets and passwords masked")


class CpuOut(BaseModel):
    process_percent: float
    system_percent: float
    count: int
    load_average: tuple[float, float, float]


class MemoryOut(BaseModel):
    process_rss_bytes: int
    system_total_bytes: int
    system_available_bytes: int
    system_percent: float


class DiskOut(BaseModel):
    path: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


class FilesOut(BaseModel):
    open: int
    limit: int | None


class LoopLagOut(BaseModel):
    interval_ms: float
    samples: int
    last_ms: float
    p99_ms: float
    max_ms: float


class SystemOut(BaseModel):
    pid: int
    cpu: CpuOut
    memory: MemoryOut
    disk: DiskOut
    files: FilesOut
    threads: int
    event_loop_lag: LoopLagOut
