"""PostgreSQL over SQLAlchemy's async engine and asyncpg: engine, sessions, unit of work, retry.

The request owns the unit of work (`unit_of_work`): commit on success, roll back on any error.
Services never commit. `TransactionRunner.run` re-runs a whole transaction on serialization
failure, deadlock or a dropped connection, but never after a commit that may have gone through,
and never past the request's store deadline (`quartet.core.deadline`).

Every round trip (connect, ping of an idle connection, statement, COMMIT) is bounded by half the
deadline, so a ping that times out and the reconnect that follows still fit in it; a timed-out
connection is invalidated (closed, never reused or rolled back over the wire). "Cannot connect
now" (57P03, a server starting up or shutting down), administrator shutdown and connection
exceptions count as the store being unavailable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from quartet.core.deadline import remaining, store_budget
from quartet.settings import Settings
from quartet.stores.errors import StoreUnreachableError
from quartet.stores.monitoring import QueryMonitor, normalise_sql

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
UNAVAILABLE_SQLSTATES = frozenset(
    {"57P01", "57P02", "57P03", "53300"}  # admin/crash shutdown, cannot connect now, too many
)
CONNECTION_EXCEPTION_CLASS = "08"
MIN_ATTEMPT_SECONDS = 0.1
"""A retry starts only when at least this much of the request's deadline would be left."""
CLOSE_TIMEOUT = 0.25
"""How long closing an invalidated connection may wait for the server's goodbye."""


class QuickCloseConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg: no stubs
    """SQLAlchemy closes an invalidated connection gracefully, waiting up to 2 s for a server
    that may be frozen; this waits a moment, then drops the socket."""

    async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg API
        limit = CLOSE_TIMEOUT if timeout is None else min(timeout, CLOSE_TIMEOUT)
        try:
            await super().close(timeout=limit)
        except (TimeoutError, OSError):
            self.terminate()


class PostgresTimeoutError(Exception):
    """A PostgreSQL round trip (connect, ping, statement) outlived its share of the deadline,
    or its connection was reset."""


def round_trip_timeout(settings: Settings) -> float:
    """Each round trip gets half the stores' share of the deadline: a failed pre-ping plus a
    reconnect fit."""
    return store_budget(settings.STORE_DEADLINE_SECONDS) / 2


def create_engine(settings: Settings, monitor: QueryMonitor | None = None) -> AsyncEngine:
    """The app's engine: pool sizing, recycle, a server-side statement timeout from settings, and
    client-side bounds from the store deadline (a frozen server never holds a request)."""
    bound = round_trip_timeout(settings)
    engine = create_async_engine(
        settings.DATABASE_URL,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=min(settings.DB_POOL_TIMEOUT, bound),
        pool_recycle=settings.DB_POOL_RECYCLE,
        pool_pre_ping=False,  # see ping_idle_connections
        echo=settings.DB_ECHO,
        connect_args={
            "timeout": min(settings.DB_CONNECT_TIMEOUT, bound),
            "command_timeout": min(settings.DB_QUERY_TIMEOUT + 5, bound),
            "connection_class": QuickCloseConnection,
            "server_settings": {
                "statement_timeout": str(int(settings.DB_QUERY_TIMEOUT * 1000)),
                "application_name": settings.PROJECT_NAME.lower(),
                "timezone": "UTC",
            },
        },
    )
    event.listen(engine.sync_engine, "handle_error", _timeouts_invalidate)
    ping_idle_connections(engine)
    if monitor is not None:
        attach_monitor(engine, monitor)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled connection idle longer than this is pinged before it is handed out."""
_IDLE_SINCE = "quartet_idle_since"


def ping_idle_connections(engine: AsyncEngine) -> None:
    """SQLAlchemy's `pool_pre_ping` pings every checkout, and the asyncpg dialect's ping is three
    round trips (BEGIN, `;`, ROLLBACK): more than the query a request came for. A connection
    checked in less than `PING_AFTER_IDLE_SECONDS` ago was just working; an older one (a server
    restart, a proxy's idle cut) is pinged, and one that fails is replaced by a new one. A
    connection that dies in between fails its statement as a disconnect, which invalidates the
    pool (the request answers 503)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one just used
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError("idle connection failed its ping") from error


def _timeouts_invalidate(context: Any) -> Exception | None:
    """asyncpg raises the built-in TimeoutError (connect, pre-ping, statement): the connection
    is closed rather than reused, and the error becomes one that names PostgreSQL."""
    original = context.original_exception
    if isinstance(original, TimeoutError):
        context.is_disconnect = True
        return PostgresTimeoutError("PostgreSQL did not answer in time")
    if _sqlstate(original) in UNAVAILABLE_SQLSTATES:
        context.is_disconnect = True
    return None


def attach_monitor(engine: AsyncEngine, monitor: QueryMonitor) -> None:
    """Time every statement through SQLAlchemy cursor events (parameters never recorded)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("quartet_query_start", []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        started = conn.info["quartet_query_start"].pop()
        rowcount = getattr(cursor, "rowcount", -1)
        monitor.record(normalise_sql(statement), time.perf_counter() - started, rowcount)

    @event.listens_for(engine.sync_engine, "handle_error")
    def _error(context: Any) -> None:
        conn = context.connection
        stack = conn.info.get("quartet_query_start") if conn is not None else None
        if stack and context.statement:
            started = stack.pop()
            monitor.record(
                normalise_sql(context.statement), time.perf_counter() - started, failed=True
            )


def create_sessionmaker(engine: AsyncEngine | Any) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no implicit lazy loads)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_AFTER_COMMIT = "quartet_after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's transaction has committed; dropped on rollback, so a
    retried or failed transaction never announces work that did not happen."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _committed(session: AsyncSession) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


def _rolled_back(session: AsyncSession) -> None:
    session.info.pop(_AFTER_COMMIT, None)


class LazySession:
    """Stands in for an `AsyncSession` that is made on first use, so a unit of work that runs
    no query (a cached read, a refused request) never builds one: making and closing a session
    costs more CPU than serving a cached answer."""

    __slots__ = ("_made", "_sessionmaker")

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._made: AsyncSession | None = None

    @property
    def made(self) -> AsyncSession | None:
        """The session, if anything used it."""
        return self._made

    def __getattr__(self, name: str) -> Any:
        session = self._made
        if session is None:
            session = self._made = self._sessionmaker()
        return getattr(session, name)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when anything raises. The
    session is made on first use (`LazySession`)."""
    lazy = LazySession(sessionmaker)
    try:
        yield cast(AsyncSession, lazy)
        if lazy.made is not None:
            await lazy.made.commit()
    except BaseException as error:
        if lazy.made is not None:
            _rolled_back(lazy.made)
            await lazy.made.rollback()
        _raise_as_postgres_outage(error)
        raise
    finally:
        if lazy.made is not None:
            await lazy.made.close()
    if lazy.made is not None:
        _committed(lazy.made)


def _raise_as_postgres_outage(error: BaseException) -> None:
    """asyncpg's timeouts (connect, pool pre-ping) and socket errors while connecting (a server
    shutting down resets the connection) surface as built-in exceptions, which name no store:
    inside a PostgreSQL unit of work they are PostgreSQL's (the other drivers wrap theirs)."""
    if type(error) is TimeoutError or isinstance(error, ConnectionError):
        raise PostgresTimeoutError("PostgreSQL did not answer") from error


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (error, orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if state:
            return str(state)
    return None


def is_connection_error(error: BaseException) -> bool:
    """The connection to PostgreSQL is gone, could not be made, or timed out; or the server is
    starting up, shutting down or out of connections."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.TimeoutError | PostgresTimeoutError | TimeoutError):
        return True  # pool checkout or a round trip timed out
    state = _sqlstate(error)
    if state is not None and (
        state in UNAVAILABLE_SQLSTATES or state.startswith(CONNECTION_EXCEPTION_CLASS)
    ):
        return True
    if isinstance(error, exc.InterfaceError | exc.OperationalError) and _sqlstate(error) is None:
        return True
    root = getattr(error, "orig", None) or error
    cause = getattr(root, "__cause__", None)
    return isinstance(
        root, OSError | asyncpg.ConnectionDoesNotExistError | asyncpg.CannotConnectNowError
    ) or isinstance(cause, OSError | asyncpg.ConnectionDoesNotExistError)


def is_retryable(error: BaseException) -> bool:
    return _sqlstate(error) in RETRYABLE_SQLSTATES or is_connection_error(error)


class CommitOutcomeUnknownError(Exception):
    """The connection dropped during COMMIT: the transaction may have committed, so no retry."""


class TransactionRunner:
    """Runs `work(session)` in its own transaction, re-running it on transient failures.

    Safe to retry: serialization failure (40001) and deadlock (40P01) anywhere, and a dropped
    connection before COMMIT was sent. Never retried: a connection lost during COMMIT (the write
    may have landed), or any other error.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.max_attempts = settings.DB_RETRY_MAX_ATTEMPTS
        self.base_delay = settings.DB_RETRY_BASE_DELAY
        self.max_delay = settings.DB_RETRY_MAX_DELAY

    async def run(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, isolation_level: str | None = None
    ) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.max_attempts) | OutOfTime(),
            # jitter scaled to the base delay (tenacity's default jitter is a whole second,
            # which would swamp a 50 ms base delay)
            wait=wait_exponential_jitter(
                multiplier=self.base_delay, max=self.max_delay, jitter=self.base_delay
            ),
            before_sleep=self._log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(work, isolation_level)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, work: Callable[[AsyncSession], Awaitable[T]], isolation_level: str | None
    ) -> T:
        async with self.sessionmaker() as session:
            try:
                if isolation_level is not None:
                    await session.connection(execution_options={"isolation_level": isolation_level})
                result = await work(session)
            except BaseException as error:
                _rolled_back(session)
                await session.rollback()
                _raise_as_postgres_outage(error)
                raise
            try:
                await session.commit()
            except Exception as error:
                _rolled_back(session)
                if is_connection_error(error):
                    raise CommitOutcomeUnknownError(
                        "connection lost during COMMIT; not retried"
                    ) from error
                raise
            _committed(session)
            return result

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "retrying transaction (attempt %d) after %s",
            state.attempt_number,
            type(error).__name__,
            extra={
                "attempt": state.attempt_number,
                "sqlstate": error and _sqlstate(error),
                "sleep_s": round(state.upcoming_sleep, 3),
            },
        )


class OutOfTime(stop_base):
    """Stop retrying when the next attempt would start too close to the request's deadline."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = remaining()
        return left is not None and left - retry_state.upcoming_sleep < MIN_ATTEMPT_SECONDS


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def translate_error(error: Exception) -> StoreUnreachableError:
    """The store-level error for a driver error meaning PostgreSQL is unreachable (a 503 once
    rendered); re-raise anything else."""
    if is_connection_error(error) or isinstance(error, CommitOutcomeUnknownError):
        return StoreUnreachableError("postgres")
    raise error


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    exc.DBAPIError,
    exc.TimeoutError,
    PostgresTimeoutError,
    CommitOutcomeUnknownError,
    ConnectionRefusedError,
    asyncpg.CannotConnectNowError,
)
