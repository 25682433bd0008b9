"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet.core.errors import PayloadTooLargeError, error_response, internal_error_response
from quartet.core.ids import uuid7
from quartet.core.request_context import RequestInfo, request_id_var, request_info_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
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

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_info_var.reset(info_token)
            request_id_var.reset(token)


class SecurityHeadersMiddleware:
    """Conservative browser security headers; HSTS only where TLS is guaranteed (production)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(_DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _API_SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not docs:  # Swagger UI and ReDoc load their own scripts and styles
                    headers.setdefault("content-security-policy", _STRICT_CSP)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=63072000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
