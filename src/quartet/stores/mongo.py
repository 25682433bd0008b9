"""MongoDB through PyMongo's native async client (`AsyncMongoClient`, the successor of Motor).

UUIDs are stored as standard BSON UUIDs (subtype 4). A command listener feeds the query monitor
with the command name, collection and filter *shape* (keys, never values).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from quartet.settings import Settings
from quartet.stores.errors import StoreUnreachableError
from quartet.stores.monitoring import QueryMonitor

MongoDocument = dict[str, Any]
MongoDatabase = AsyncDatabase[MongoDocument]

_SHAPE_FIELDS = ("filter", "query", "q", "sort", "update", "u")
_IGNORED_COMMANDS = frozenset(
    {
        "hello",
        "ismaster",
        "isMaster",
        "ping",
        "buildInfo",
        "saslStart",
        "saslContinue",
        "endSessions",
        "killCursors",
    }
)


def _shape(value: Any) -> Any:
    """Keys of a filter/update document with values replaced, so no data reaches the stats."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "?"


def _statement(command_name: str, command: Mapping[str, Any], database: str) -> str:
    collection = command.get(command_name)
    target = f"{database}.{collection}" if isinstance(collection, str) else database
    parts = [command_name, target]
    if command_name == "aggregate":
        stages = [next(iter(stage)) for stage in command.get("pipeline", []) if stage]
        parts.append("[" + ",".join(stages) + "]")
    for name in _SHAPE_FIELDS:
        if name in command:
            parts.append(f"{name}={_shape(command[name])}")
    return " ".join(parts)


def _rows(reply: Mapping[str, Any]) -> int | None:
    cursor = reply.get("cursor")
    if isinstance(cursor, dict):
        batch = cursor.get("firstBatch", cursor.get("nextBatch"))
        return len(batch) if isinstance(batch, list) else None
    n = reply.get("n")
    return int(n) if isinstance(n, int) else None


class MongoCommandMonitor(monitoring.CommandListener):
    """Times each command; PyMongo calls these hooks synchronously on the event loop."""

    def __init__(self, monitor: QueryMonitor) -> None:
        self.monitor = monitor
        self._pending: dict[tuple[Any, int], tuple[str, float]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _IGNORED_COMMANDS:
            return
        statement = _statement(event.command_name, event.command, event.database_name)
        self._pending[(event.connection_id, event.request_id)] = (statement, time.perf_counter())

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pending = self._pending.pop((event.connection_id, event.request_id), None)
        if pending is not None:
            self.monitor.record(pending[0], event.duration_micros / 1e6, _rows(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pending = self._pending.pop((event.connection_id, event.request_id), None)
        if pending is not None:
            self.monitor.record(pending[0], event.duration_micros / 1e6, failed=True)


def create_client(
    settings: Settings,
    monitor: QueryMonitor | None = None,
    pool_usage: monitoring.ConnectionPoolListener | None = None,
) -> AsyncMongoClient[MongoDocument]:
    """One client per process; connects lazily, so a MongoDB outage never blocks start-up."""
    listeners: list[monitoring._EventListener] = []
    listeners += [MongoCommandMonitor(monitor)] if monitor is not None else []
    listeners += [pool_usage] if pool_usage is not None else []
    return AsyncMongoClient(
        settings.MONGODB_URL,
        uuidRepresentation="standard",
        tz_aware=True,
        serverSelectionTimeoutMS=settings.MONGODB_TIMEOUT_MS,
        connectTimeoutMS=settings.MONGODB_TIMEOUT_MS,
        event_listeners=listeners,
        appname=settings.PROJECT_NAME.lower(),
    )


def database(client: AsyncMongoClient[MongoDocument], name: str) -> MongoDatabase:
    options: CodecOptions[MongoDocument] = CodecOptions(
        document_class=dict, tz_aware=True, uuid_representation=UuidRepresentation.STANDARD
    )
    return client.get_database(name, codec_options=options)


async def ping(client: AsyncMongoClient[MongoDocument]) -> None:
    await client.admin.command("ping")


OUTAGE_CODES = frozenset({50, 91, 189, 10107, 11600, 11602, 13435, 13436})
"""MaxTimeMSExpired, ShutdownInProgress, PrimarySteppedDown, NotWritablePrimary,
InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
NotPrimaryOrSecondary: the server is going away, changing role or past the deadline."""


def translate_error(error: Exception) -> StoreUnreachableError:
    """Unreachable (a 503 once rendered) for a MongoDB that cannot be reached or answer within
    the request's deadline (PyMongo's client-side timeouts included); any other command failure
    is re-raised."""
    if isinstance(error, OperationFailure) and not (
        getattr(error, "timeout", False)
        or error.code in OUTAGE_CODES
        or error.has_error_label("RetryableWriteError")
    ):
        raise error
    return StoreUnreachableError("mongodb")


UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    ConnectionFailure,
    AutoReconnect,
    ServerSelectionTimeoutError,
    ExecutionTimeout,
    WTimeoutError,
    OperationFailure,
)
