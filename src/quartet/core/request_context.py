"""Per-request context shared by logging, errors, middleware, metrics and error tracking."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestInfo:
    """What is learnt about a request while it is served. Mutated in place (never re-set), so
    what a dependency notes is seen by the middleware and log lines around it."""

    __slots__ = ("scope", "user_id")

    def __init__(self, scope: dict[str, Any] | Any) -> None:
        self.scope = scope
        self.user_id: str | None = None

    @property
    def route(self) -> str | None:
        """The matched route's template (`/api/v1/posts/{post_id}`), never the raw path."""
        return route_template(self.scope)


request_info_var: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def route_template(scope: Any) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def note_user(user_id: uuid.UUID | str) -> None:
    """Record the authenticated user on the current request (for logs, metrics, Sentry)."""
    info = request_info_var.get()
    if info is not None:
        info.user_id = str(user_id)
