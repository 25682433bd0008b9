"""Sentry error tracking, opt-in with SENTRY_DSN (sentry-sdk is imported only then).

Unhandled errors reach Sentry through its logging integration: `core.middleware` logs
them with their traceback at ERROR, inside the request's Sentry scope (FastAPI integration).
Every event is tagged with the request id and the user id and then scrubbed: no request body,
cookies or query values, only harmless headers, no local variables, no IP, and every string
passed through the log redaction.
"""

from __future__ import annotations

import logging
from typing import Any

from quartet import __version__
from quartet.core.log_redaction import redact
from quartet.core.request_context import request_id_var, request_info_var
from quartet.settings import Settings

SAFE_HEADERS = frozenset(
    {"accept", "accept-encoding", "content-length", "content-type", "host", "user-agent"}
)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Tag with the request and user ids; keep nothing that could carry a secret."""
    tags = event.setdefault("tags", {})
    request_id = request_id_var.get()
    if request_id is not None:
        tags["request_id"] = request_id
    info = request_info_var.get()
    if info is not None and info.user_id is not None:
        tags["user_id"] = info.user_id
        event["user"] = {"id": info.user_id}
    else:
        event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
        for key in ("data", "cookies", "env"):
            request.pop(key, None)
        if request.get("query_string"):
            request["query_string"] = "[redacted]"
        if info is not None and info.route is not None:
            tags["route"] = info.route
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def init_sentry(settings: Settings, git_sha: str | None) -> bool:
    """Start the SDK when SENTRY_DSN is set; False (and nothing imported) otherwise."""
    if settings.SENTRY_DSN is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_DSN.get_secret_value(),
        environment=settings.ENVIRONMENT,
        release=f"quartet@{__version__}" + (f"+{git_sha}" if git_sha else ""),
        sample_rate=settings.SENTRY_SAMPLE_RATE,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send,  # type: ignore[arg-type]
        integrations=[
            StarletteIntegration(transaction_style="endpoint"),
            FastApiIntegration(transaction_style="endpoint"),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
    )
    return True
