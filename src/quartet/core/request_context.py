"""Per-request context shared by logging, errors, middleware, metrics and error tracking."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any
from weakref import WeakKeyDictionary

import fastapi.routing

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
    """The full template of the route that matched (`/api/v1/posts/{post_id}`), or None.

    FastAPI keeps included routers nested, so the matched route's own `path` lacks the
    prefixes it was included under; the full templates come from walking the app's routes
    once (`fastapi.routing.iter_route_contexts`), cached per app."""
    route = scope.get("route")
    if route is None:
        return None
    app = scope.get("app")
    templates = _templates.get(app) if app is not None else None
    if templates is None or id(route) not in templates:
        templates = _route_templates(app) if app is not None else {}
        # A route missing from the walk is remembered by its own path (walked once).
        templates.setdefault(id(route), str(getattr(route, "path", "")) or None)
        if app is not None:
            _templates[app] = templates
    return templates[id(route)]


_templates: WeakKeyDictionary[Any, dict[int, str | None]] = WeakKeyDictionary()


def _route_templates(app: Any) -> dict[int, str | None]:
    routes = getattr(app, "routes", [])
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:  # FastAPI versions that flatten included routers
        return {id(route): getattr(route, "path", None) for route in routes}
    return {id(context.original_route): context.path_format for context in iterate(routes)}


def note_user(user_id: uuid.UUID | str) -> None:
    """Record the authenticated user on the current request (for logs, metrics, Sentry)."""
    info = request_info_var.get()
    if info is not None:
        info.user_id = str(user_id)
