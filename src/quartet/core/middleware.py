"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet.core.errors import PayloadTooLargeError, error_response, internal_error_response
from quartet.core.ids import uuid7
from quartet.core.request_context import RequestInfo, request_id_var, request_info_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_API_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
_DOCS_PATHS = ("/docs", "/redoc")


class RequestIdMiddleware:
    """Accept a well-formed `X-Request-ID` or make one; echo it and expose it to logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), ""
        )
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid7().hex
        token = request_id_var.set(request_id)
        info_token = request_info_var.set(RequestInfo(scope))

        id_header = (_REQUEST_ID_NAME, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", ())
                message["headers"] = [
                    *(pair for pair in raw if pair[0].lower() != _REQUEST_ID_NAME),
                    id_header,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_info_var.reset(info_token)
            request_id_var.reset(token)


class SecurityHeadersMiddleware:
    """Conservative browser security headers; HSTS only where TLS is guaranteed (production).
    A header the answer already carries is left as it is."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        headers = dict(_API_SECURITY_HEADERS)
        if hsts:
            headers["strict-transport-security"] = "max-age=63072000"
        self.docs_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        # Swagger UI and ReDoc load their own scripts and styles: no strict CSP on them
        self.api_headers = [*self.docs_headers, (b"content-security-policy", _STRICT_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.docs_headers if scope["path"].startswith(_DOCS_PATHS) else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_defaults(message.get("headers", ()), added)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_defaults(
    headers: Iterable[tuple[bytes, bytes]], defaults: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """Raw response headers plus each of `defaults` whose name is not there yet (lower-case
    names, as every ASGI response carries them)."""
    raw = list(headers)
    present = {name.lower() for name, _ in raw}
    raw.extend(pair for pair in defaults if pair[0] not in present)
    return raw


class BodySizeLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413: early on Content-Length, else while streaming.
    `path_limits` gives exact paths (uploads) a limit of their own, which their route enforces
    again as it streams."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope["path"], self.max_bytes)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            err = PayloadTooLargeError(f"Request body exceeds {max_bytes} bytes")
            await error_response(err.status_code, err.code, err.message)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # An HTTPException, because FastAPI turns any other error raised while it
                    # parses a JSON body into a 400 ("There was an error parsing the body").
                    raise StarletteHTTPException(
                        413, detail=f"Request body exceeds {max_bytes} bytes"
                    )
            return message

        await self.app(scope, receive if declared is not None else limited_receive, send)


class UnhandledErrorMiddleware:
    """Any exception no handler took becomes a 500 in the error format, with no traceback in the
    body but a full one in the log (sits inside RequestIdMiddleware so both carry the id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            await internal_error_response()(scope, receive, send)
