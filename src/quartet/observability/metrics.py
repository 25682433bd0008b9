"""The process's Prometheus metrics (prometheus-client, module level as the library expects).

With several workers, `PROMETHEUS_MULTIPROC_DIR` switches prometheus-client to its
multiprocess mode: every value lives in a file of that directory and a scrape of any worker
sums all of them. Gauges say how they combine across workers (`multiprocess_mode`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ROUND_TRIP_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no route matched (a 404): raw paths never become labels."""

HTTP_REQUESTS = Counter(
    "quartet_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ("method", "route", "status"),
)
HTTP_DURATION = Histogram(
    "quartet_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by method and route template",
    ("method", "route"),
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "quartet_http_requests_in_progress",
    "HTTP requests being served right now",
    multiprocess_mode="livesum",
)
REDIS_ROUND_TRIPS = Histogram(
    "quartet_redis_round_trips_per_request",
    "Redis round trips (a command or a whole pipeline) made while serving one request",
    ("route",),
    buckets=ROUND_TRIP_BUCKETS,
)

DB_QUERIES = Counter(
    "quartet_db_queries", "Statements run, by store (postgres, mongodb, cassandra)", ("store",)
)
DB_QUERY_ERRORS = Counter("quartet_db_query_errors", "Statements that failed, by store", ("store",))
DB_SLOW_QUERIES = Counter(
    "quartet_db_slow_queries", "Statements slower than SLOW_QUERY_MS, by store", ("store",)
)
DB_QUERY_DURATION = Histogram(
    "quartet_db_query_duration_seconds",
    "Statement duration as seen by the driver, by store",
    ("store",),
    buckets=QUERY_BUCKETS,
)

RATE_LIMIT_REFUSALS = Counter(
    "quartet_rate_limit_refusals", "Requests refused with 429, by limit scope", ("scope",)
)
AUDIT_EVENTS = Counter(
    "quartet_audit_events", "Audit records committed, by action (auth.login, ...)", ("action",)
)
LOGINS = Counter("quartet_logins", "Login attempts by outcome: ok, failed, locked", ("outcome",))
LOCKOUTS = Counter("quartet_account_lockouts", "Accounts or identifiers locked by failed logins")
REFRESHES = Counter("quartet_token_refreshes", "Refresh tokens rotated successfully")
REFRESH_REUSE = Counter(
    "quartet_refresh_token_reuse",
    "Spent refresh tokens presented again (their session was revoked as stolen)",
)

EVENT_LOOP_LAG = Histogram(
    "quartet_event_loop_lag_seconds",
    "How late the event loop woke a probe sleeping a fixed interval",
    buckets=LAG_BUCKETS,
)
EVENT_LOOP_LAG_CURRENT = Gauge(
    "quartet_event_loop_lag_current_seconds",
    "The last probe's event-loop lag (the highest among workers)",
    multiprocess_mode="livemax",
)
WORKER_INFO = Gauge(
    "quartet_worker_info",
    "1 per live worker process (pid label in multiprocess mode), with the app version",
    ("version",),
    multiprocess_mode="liveall",
)

_AUTH_ACTIONS = {
    "auth.login": LOGINS.labels("ok"),
    "auth.login_failed": LOGINS.labels("failed"),
    "auth.login_locked": LOGINS.labels("locked"),
    "auth.lockout": LOCKOUTS,
    "auth.refresh": REFRESHES,
    "auth.refresh_reuse": REFRESH_REUSE,
}


def count_audit_action(action: str) -> None:
    """Count a committed audit record (called once its transaction committed)."""
    AUDIT_EVENTS.labels(action).inc()
    metric = _AUTH_ACTIONS.get(action)
    if metric is not None:
        metric.inc()


def count_rate_limit_refusal(scope: str) -> None:
    RATE_LIMIT_REFUSALS.labels(scope).inc()
