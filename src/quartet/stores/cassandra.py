"""Cassandra through cassandra-driver, bridged to asyncio.

The driver runs its own I/O thread; `execute_async` returns a `ResponseFuture` whose callbacks
we hand back to the event loop with `call_soon_threadsafe`. Statements are prepared once and
cached; reads page with the driver's paging state (an opaque cursor for clients). The cluster
connects lazily and reconnects by itself, so a Cassandra outage never stops the app starting.
Inside a request, every call (connecting and preparing included) is bounded by what is left of
the request's store deadline; past it the call raises `OperationTimedOut` (a 503).

On a ring, requests go token-aware to a replica of the local DC at CASSANDRA_CONSISTENCY
(LOCAL_QUORUM there). Every statement the app runs is idempotent by design (upserts keyed by ids
the app makes, deletes, reads; no counters, lightweight transactions or list appends), so
statements are marked idempotent unless a caller says otherwise: the driver may then retry one
on another node when its coordinator drops the connection or times out, and may speculatively
send a slow read to a second replica (CASSANDRA_SPECULATIVE_DELAY_MS).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cassandra import (
    ConsistencyLevel,
    DriverException,
    OperationTimedOut,
    ReadTimeout,
    Unavailable,
    WriteTimeout,
)
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
    Session,
)
from cassandra.policies import (
    ConstantSpeculativeExecutionPolicy,
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import BatchStatement, BatchType, PreparedStatement, dict_factory

from quartet.core.deadline import bounded
from quartet.settings import Settings
from quartet.stores.monitoring import QueryMonitor, normalise_sql
from quartet.stores.outages import always_unreachable

logger = logging.getLogger(__name__)
T = TypeVar("T")

Row = dict[str, Any]
_SAFE_OPTION = re.compile(r"^[A-Za-z0-9_.]+$")
READS = "reads"
"""The execution profile of SELECTs: the default one plus speculative execution when enabled."""


@dataclass(frozen=True)
class Page:
    """One page of rows and the driver's paging state for the next one (None at the end)."""

    rows: list[Row]
    paging_state: bytes | None


class CassandraStore:
    """A lazily connected session with prepared-statement caching and an asyncio bridge."""

    def __init__(self, settings: Settings, monitor: QueryMonitor | None = None) -> None:
        self.settings = settings
        self.keyspace = settings.CASSANDRA_KEYSPACE
        self.monitor = monitor
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._preparing: dict[str, asyncio.Task[PreparedStatement]] = {}
        self._connecting: asyncio.Task[Session] | None = None

    def _profile(self, speculative: bool) -> ExecutionProfile:
        delay_ms = self.settings.CASSANDRA_SPECULATIVE_DELAY_MS
        return ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(
                DCAwareRoundRobinPolicy(local_dc=self.settings.CASSANDRA_LOCAL_DC)
            ),
            consistency_level=ConsistencyLevel.name_to_value[self.settings.CASSANDRA_CONSISTENCY],
            request_timeout=self.settings.CASSANDRA_REQUEST_TIMEOUT,
            row_factory=dict_factory,
            speculative_execution_policy=(
                ConstantSpeculativeExecutionPolicy(
                    delay_ms / 1000, self.settings.CASSANDRA_SPECULATIVE_MAX
                )
                if speculative and delay_ms > 0
                else None
            ),
        )

    def _new_cluster(self) -> Cluster:
        return Cluster(
            contact_points=self.settings.CASSANDRA_CONTACT_POINTS,
            port=self.settings.CASSANDRA_PORT,
            execution_profiles={
                EXEC_PROFILE_DEFAULT: self._profile(speculative=False),
                READS: self._profile(speculative=True),
            },
            connect_timeout=self.settings.CASSANDRA_CONNECT_TIMEOUT,
            control_connection_timeout=self.settings.CASSANDRA_CONNECT_TIMEOUT,
            reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=10.0),
            protocol_version=5,
        )

    async def session(self) -> Session:
        """The connected session, connecting on first use (a failed attempt is retried later).
        Concurrent callers share one attempt; each waits only as long as its deadline allows."""
        if self._session is not None:
            return self._session
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._connect())
            # a failure nobody waited for (every caller's deadline ended) is not an error
            self._connecting.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await self._within_deadline(asyncio.shield(self._connecting))

    async def _connect(self) -> Session:
        cluster = self._new_cluster()
        loop = asyncio.get_running_loop()
        try:
            session = await loop.run_in_executor(None, cluster.connect)
        except BaseException:
            await loop.run_in_executor(None, cluster.shutdown)
            raise
        finally:
            self._connecting = None
        self._cluster, self._session = cluster, session
        return session

    async def _within_deadline(self, awaitable: Awaitable[T]) -> T:
        """Await a driver step, giving up (OperationTimedOut) when the request's deadline ends."""
        try:
            async with asyncio.timeout(bounded(self.settings.CASSANDRA_REQUEST_TIMEOUT)):
                return await awaitable
        except TimeoutError:
            raise OperationTimedOut("no answer within the request's deadline") from None

    async def connect(self) -> bool:
        """Try to connect now (at start-up); an outage is logged, not raised."""
        try:
            await self.session()
        except (DriverException, NoHostAvailable, OSError) as error:
            logger.warning("cassandra not reachable yet: %s", type(error).__name__)
            return False
        return True

    async def close(self) -> None:
        if self._connecting is not None:
            with contextlib.suppress(Exception):
                await self._connecting
        for pending in list(self._preparing.values()):
            pending.cancel()
        cluster, self._cluster, self._session = self._cluster, None, None
        self._prepared.clear()
        if cluster is not None:
            await asyncio.get_running_loop().run_in_executor(None, cluster.shutdown)

    async def prepare(self, query: str) -> PreparedStatement:
        """The statement prepared once: concurrent first uses share one preparation (on a ring
        the driver prepares it on every node, a blocking call in a worker thread), each caller
        waiting only as long as its own deadline allows."""
        statement = self._prepared.get(query)
        if statement is not None:
            return statement
        pending = self._preparing.get(query)
        if pending is None:
            # a context of its own: no caller's deadline ends it for the others
            pending = asyncio.create_task(self._prepare(query), context=contextvars.Context())
            self._preparing[query] = pending
            pending.add_done_callback(lambda task: self._prepared_done(query, task))
        return await self._within_deadline(asyncio.shield(pending))

    async def _prepare(self, query: str) -> PreparedStatement:
        session = await self.session()
        loop = asyncio.get_running_loop()
        statement = await loop.run_in_executor(None, session.prepare, query)
        self._prepared[query] = statement
        return statement

    def _prepared_done(self, query: str, task: asyncio.Task[PreparedStatement]) -> None:
        self._preparing.pop(query, None)
        if not task.cancelled():
            task.exception()  # a failure nobody waited for is not an error: the next use retries

    async def execute(
        self,
        query: str,
        params: Sequence[Any] = (),
        *,
        fetch_size: int | None = None,
        paging_state: bytes | None = None,
        idempotent: bool = True,
    ) -> Page:
        """Run a prepared statement and return one page of rows."""
        statement = await self.prepare(query)
        bound = statement.bind(params)
        bound.is_idempotent = idempotent
        if fetch_size is not None:
            bound.fetch_size = fetch_size
        session = await self.session()
        profile = READS if query.lstrip()[:6].upper() == "SELECT" else EXEC_PROFILE_DEFAULT
        response = session.execute_async(
            bound, paging_state=paging_state, timeout=self._timeout(), execution_profile=profile
        )
        return await self._resolve(response, query)

    async def execute_batch(
        self,
        statements: Sequence[tuple[str, Sequence[Any]]],
        *,
        logged: bool = True,
        idempotent: bool = True,
    ) -> None:
        """Several prepared writes as one batch (logged: all tables of one entity or none)."""
        batch = BatchStatement(batch_type=BatchType.LOGGED if logged else BatchType.UNLOGGED)
        batch.is_idempotent = idempotent
        prepared = await asyncio.gather(*(self.prepare(query) for query, _ in statements))
        for statement, (_, params) in zip(prepared, statements, strict=True):
            batch.add(statement, params)
        session = await self.session()
        label = "BATCH " + "; ".join(sorted({q for q, _ in statements}))
        await self._resolve(session.execute_async(batch, timeout=self._timeout()), label)

    async def iterate(
        self, query: str, params: Sequence[Any] = (), *, fetch_size: int = 500
    ) -> AsyncIterator[Row]:
        """Every row of a query, fetching page after page without blocking the loop."""
        paging_state: bytes | None = None
        while True:
            page = await self.execute(
                query, params, fetch_size=fetch_size, paging_state=paging_state
            )
            for row in page.rows:
                yield row
            if page.paging_state is None:
                return
            paging_state = page.paging_state

    async def execute_ddl(self, statement: str) -> None:
        """Schema statements only (not prepared); the driver waits for schema agreement."""
        session = await self.session()
        await self._resolve(session.execute_async(statement), statement)

    def _timeout(self) -> float:
        """The driver's request timeout for the next call, cut to the request's deadline."""
        timeout = bounded(self.settings.CASSANDRA_REQUEST_TIMEOUT)
        if timeout <= 0:
            raise OperationTimedOut("the request's store deadline has passed")
        return timeout

    def _resolve(self, response: ResponseFuture, query: str) -> asyncio.Future[Page]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Page] = loop.create_future()
        started = time.perf_counter()
        label = normalise_sql(query)

        def finish(error: BaseException | None) -> None:
            elapsed = time.perf_counter() - started
            if future.done():  # cancelled, or answered by another (speculative) execution
                return
            if error is not None:
                if self.monitor is not None:
                    self.monitor.record(label, elapsed, failed=True)
                future.set_exception(error)
                return
            result = response.result()  # already complete: returns at once
            rows = list(result.current_rows)
            if self.monitor is not None:
                self.monitor.record(label, elapsed, len(rows))
            future.set_result(Page(rows, result.paging_state))

        # The caller's context, so the monitor's log lines and spans name its request.
        context = contextvars.copy_context()
        response.add_callbacks(
            callback=lambda _rows: loop.call_soon_threadsafe(finish, None, context=context),
            errback=lambda error: loop.call_soon_threadsafe(finish, error, context=context),
        )
        return future

    def pool_usage(self) -> dict[str, int]:
        """Open connections and requests in flight over every host (zeros before connecting)."""
        if self._session is None:
            return {"hosts": 0, "open": 0, "in_flight": 0}
        state = self._session.get_pool_state()
        return {
            "hosts": len(state),
            "open": sum(int(host.get("open_count", 0)) for host in state.values()),
            "in_flight": sum(sum(host.get("in_flights", ())) for host in state.values()),
        }

    async def ping(self) -> str:
        page = await self.execute("SELECT release_version FROM system.local")
        return str(page.rows[0]["release_version"])

    def replication_cql(self) -> str:
        """The keyspace's replication map as CQL, from settings (values checked, not quoted in)."""
        items = []
        for key, value in self.settings.CASSANDRA_REPLICATION.items():
            if not (_SAFE_OPTION.match(str(key)) and _SAFE_OPTION.match(str(value))):
                raise ValueError(f"unsafe CASSANDRA_REPLICATION entry {key!r}: {value!r}")
            items.append(f"'{key}': '{value}'")
        return "{" + ", ".join(items) + "}"

    async def apply_schema(self, tables: Sequence[str]) -> None:
        """Create the keyspace and every table idempotently; `{ks}` in DDL is the keyspace."""
        await self.execute_ddl(
            f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} "
            f"WITH replication = {self.replication_cql()}"
        )
        for ddl in tables:
            await self.execute_ddl(ddl.format(ks=self.keyspace))

    async def drop_keyspace(self) -> None:
        await self.execute_ddl(f"DROP KEYSPACE IF EXISTS {self.keyspace}")


translate_error = always_unreachable("cassandra")


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    NoHostAvailable,
    OperationTimedOut,
    Unavailable,
    ReadTimeout,
    WriteTimeout,
)
