"""Reading the token cookies an answer sets, and presenting them back as a browser would."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie

import httpx

SPA_ORIGIN = "http://localhost:5173"  # listed in BACKEND_CORS_ORIGINS by default
COOKIE_NAMES = {"access_token", "refresh_token", "csrf_token"}


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    """Each `Set-Cookie` of the answer, by cookie name."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


def values(response: httpx.Response) -> dict[str, str]:
    return {name: morsel.value for name, morsel in set_cookies(response).items()}


def browser_headers(
    cookies: dict[str, str], *, csrf: str | None = None, origin: str | None = SPA_ORIGIN
) -> dict[str, str]:
    """What a browser page sends: its cookies, its Origin and, when the SPA echoes it, the
    CSRF token."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if origin is not None:
        headers["Origin"] = origin
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers
