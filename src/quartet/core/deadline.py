"""The request's store deadline: one instant by which every store call of a request must be done.

The edge middleware (`quartet.core.middleware`) sets it when a request starts
(`STORE_DEADLINE_SECONDS` later). Each store reads what is left of it: MongoDB through PyMongo's
client-side operation timeout (which also bounds `with_transaction`'s retries), Cassandra and
Redis per call, PostgreSQL's retry loop before each new attempt (its round trips are bounded by
half the deadline each, see `postgres.create_engine`). A store that cannot answer in time raises
its own timeout error, which the error handlers turn into 503 `store_unavailable` naming it.
Outside a request (CLI, background writer) there is no deadline and each driver's own timeouts
apply.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pymongo

_deadline: ContextVar[float | None] = ContextVar("quartet_store_deadline", default=None)

ANSWER_RESERVE = 0.5
"""Seconds (at most a tenth of the deadline) kept back from the stores for rendering and
sending the answer, so the 503 itself arrives within STORE_DEADLINE_SECONDS."""


def store_budget(deadline_seconds: float) -> float:
    """The part of a request's deadline its store calls may use."""
    return deadline_seconds - min(ANSWER_RESERVE, deadline_seconds / 10)


def remaining() -> float | None:
    """Seconds left before the current request's store deadline (may be negative), or None
    outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def bounded(timeout: float) -> float:
    """`timeout`, shortened to what is left of the request's deadline (never below zero)."""
    left = remaining()
    return timeout if left is None else max(0.0, min(timeout, left))


@contextmanager
def fresh_deadline(seconds: float) -> Iterator[None]:
    """A new store deadline `seconds` from now for the block (work that must still be done after
    the request's own deadline, such as recording its answer)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        with pymongo.timeout(seconds):
            yield
    finally:
        _deadline.reset(token)
