"""Trusted hosts and redirects that never echo the request's Host header.

`host_allowed` is what the edge middleware (`quartet.core.middleware`) checks: a Host outside
`ALLOWED_HOSTS` gets 400 `invalid_host` (in the error format); probes under `EXEMPT_PREFIX`
(`/health`) are exempt, since kubelets and load balancers address a pod by its IP.
`install_slash_redirects` replaces the router's trailing-slash redirect, which Starlette builds
from the Host header, with one built from `PUBLIC_BASE_URL`.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

EXEMPT_PREFIX = "/health"


def host_name(header: str) -> str:
    """The host of a Host header, without its port (IPv6 literals keep no brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """`*` allows any host; `*.example.com` allows the subdomains of example.com."""
    for pattern in allowed:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


def public_url(base_url: str, path: str, query: bytes = b"") -> str:
    """`path` (and query) under the configured public base URL."""
    base = urlsplit(base_url)
    url = f"{base.scheme}://{base.netloc}{base.path.rstrip('/')}{path}"
    return f"{url}?{query.decode('latin-1')}" if query else url


def install_slash_redirects(router: Router, base_url: str) -> None:
    """A path that matches a route only with (or without) a trailing slash gets a 307 to that
    route under `base_url`; anything else falls through to the router's own 404."""
    not_found = router.default
    router.redirect_slashes = False

    async def redirect_or_404(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] == "http" and path.strip("/"):
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            candidate = {**scope, "path": other}
            if any(route.matches(candidate)[0] is not Match.NONE for route in router.routes):
                location = public_url(base_url, other, scope["query_string"])
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = redirect_or_404
