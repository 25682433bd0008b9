"""Where a browser may be sent after social login: a path on FRONTEND_BASE_URL or a URL on an
allowed origin (FRONTEND_BASE_URL, BACKEND_CORS_ORIGINS). Nothing else: no open redirect."""

from __future__ import annotations

from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

from quartet.oauth.errors import RedirectNotAllowedError
from quartet.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: SplitResult) -> str | None:
    if url.scheme not in _DEFAULT_PORTS or not url.hostname or "@" in url.netloc:
        return None
    try:
        port = url.port
    except ValueError:
        return None
    suffix = f":{port}" if port and port != _DEFAULT_PORTS[url.scheme] else ""
    return f"{url.scheme}://{url.hostname}{suffix}"


def allowed_origins(settings: Settings) -> set[str]:
    origins = (
        _origin(urlsplit(o)) for o in (settings.FRONTEND_BASE_URL, *settings.BACKEND_CORS_ORIGINS)
    )
    return {origin for origin in origins if origin}


def default_landing(settings: Settings) -> str:
    return settings.FRONTEND_BASE_URL.rstrip("/") + settings.OAUTH_FRONTEND_CALLBACK_PATH


def resolve_redirect(redirect_to: str | None, settings: Settings) -> str:
    """The absolute URL to land on, or RedirectNotAllowedError. Backslashes, control
    characters and whitespace are refused outright: browsers "repair" them into other hosts."""
    if not redirect_to:
        return default_landing(settings)
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in redirect_to):
        raise RedirectNotAllowedError()
    if redirect_to.startswith("/"):
        if redirect_to.startswith("//"):
            raise RedirectNotAllowedError()
        return settings.FRONTEND_BASE_URL.rstrip("/") + redirect_to
    if _origin(urlsplit(redirect_to)) not in allowed_origins(settings):
        raise RedirectNotAllowedError()
    return redirect_to


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query (before any fragment)."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))
